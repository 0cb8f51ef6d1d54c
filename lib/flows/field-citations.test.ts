import { describe, expect, it } from "vitest";
import { citationsByField, topLevelValueSpans } from "./field-citations";

describe("topLevelValueSpans", () => {
  it("finds each top-level member's value in the JSON text, nested values and escaped strings included", () => {
    const text = ' { "vendor": "Acme \\"Ltd\\"", "total" : 12.5, "lines": [{"a": "}"}, 2], "ok": true, "n": null }';
    const spans = topLevelValueSpans(text)!;
    const valueOf = (k: string) => text.slice(...spans.get(k)!);
    expect([...spans.keys()]).toEqual(["vendor", "total", "lines", "ok", "n"]);
    expect(valueOf("vendor")).toBe('"Acme \\"Ltd\\""');
    expect(valueOf("total")).toBe("12.5");
    expect(valueOf("lines")).toBe('[{"a": "}"}, 2]');
    expect(valueOf("ok")).toBe("true");
    expect(valueOf("n")).toBe("null");
  });

  it("is null for what is not a JSON object", () => {
    expect(topLevelValueSpans("[1, 2]")).toBeNull();
    expect(topLevelValueSpans("Acme sent it")).toBeNull();
    expect(topLevelValueSpans('{"a": "unterminated')).toBeNull();
  });
});

describe("citationsByField", () => {
  const content = '{"vendor": "Acme", "total": 12.5, "currency": "EUR"}';
  const parsed = JSON.parse(content);

  it("gives a citation with a span in the answer to the fields its span overlaps", () => {
    const vendorAt = content.indexOf('"Acme"');
    const onVendor = { type: "url_citation", url_citation: { url: "https://x/a", start_index: vendorAt, end_index: vendorAt + 6 } };
    const onTotalAndCurrency = { type: "url_citation", url_citation: { url: "https://x/b", start_index: content.indexOf("12.5"), end_index: content.length - 1 } };
    expect(citationsByField(content, parsed, [onVendor, onTotalAndCurrency])).toEqual({
      vendor: [onVendor],
      total: [onTotalAndCurrency],
      currency: [onTotalAndCurrency],
    });
  });

  it("gives a quoting citation to the fields whose text it contains", () => {
    const quote = { type: "page_location", cited_text: "Invoice from ACME, total 12.5 EUR", start_page_number: 1 };
    expect(citationsByField(content, parsed, [quote])).toEqual({ vendor: [quote], total: [quote], currency: [quote] });
    const other = { type: "page_location", cited_text: "Delivery address: Berlin" };
    expect(citationsByField(content, parsed, [other])).toEqual({});
  });

  it("is empty without citations or without a structured answer", () => {
    expect(citationsByField(content, parsed, [])).toEqual({});
    expect(citationsByField("Acme", undefined, [{ cited_text: "Acme" }])).toEqual({});
  });
});
