import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { csvHeader, csvRow, toOpenAIOutputLine } from "@/lib/datasets/export";
import type { ResultRow } from "@/lib/engine/types";

const ok: ResultRow = { recordId: "req-1", position: 0, status: "succeeded", result: { label: "positive" }, error: null, cost: 0.25 };
const failed: ResultRow = {
  recordId: "req-2",
  position: 1,
  status: "failed",
  result: null,
  error: { code: "http_500", message: 'upstream said "no",\nthen hung up', retryable: true },
  cost: 0,
  record: { text: "a, b" },
};

describe("OpenAI Batch output lines", () => {
  it("maps a success to a 200 response carrying the result, and a failure to an error", () => {
    expect(toOpenAIOutputLine(ok, "batch_x")).toEqual({
      id: "batch_x_0",
      custom_id: "req-1",
      response: { status_code: 200, request_id: "batch_x:req-1", body: { label: "positive" } },
      error: null,
    });
    expect(toOpenAIOutputLine(failed, "batch_x")).toMatchObject({
      custom_id: "req-2",
      response: null,
      error: { code: "http_500", message: 'upstream said "no",\nthen hung up' },
    });
    expect(toOpenAIOutputLine({ ...ok, status: "skipped", result: null }, "b").error?.code).toBe("skipped");
  });
});

describe("results CSV", () => {
  it("quotes per RFC 4180 so a CSV parser reads the fields back exactly", () => {
    const text = csvHeader({ withRecord: true }) + csvRow(ok, { withRecord: true }) + csvRow(failed, { withRecord: true });
    expect(text.endsWith("\r\n")).toBe(true);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows[0]).toMatchObject({ record_id: "req-1", status: "succeeded", result: '{"label":"positive"}', cost: "0.25", record: "" });
    expect(rows[1]).toMatchObject({ error_code: "http_500", error_message: 'upstream said "no",\nthen hung up', record: '{"text":"a, b"}' });
  });
});
