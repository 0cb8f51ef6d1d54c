import { describe, expect, it } from "vitest";
import { MAX_TABLE_COLUMNS, cellText, tabularColumns } from "./tabular";

describe("tabularColumns", () => {
  it("takes the keys of flat objects in the order they first appear", () => {
    expect(tabularColumns([{ id: "a", text: "x" }, { id: "b", stars: 4, text: "y" }])).toEqual(["id", "text", "stars"]);
  });

  it("refuses nested values, arrays, primitives and an empty page", () => {
    expect(tabularColumns([{ id: "a", meta: { k: 1 } }])).toBeNull();
    expect(tabularColumns([{ id: "a", tags: ["x"] }])).toBeNull();
    expect(tabularColumns(["plain line"])).toBeNull();
    expect(tabularColumns([[1, 2]])).toBeNull();
    expect(tabularColumns([])).toBeNull();
    expect(tabularColumns([{}])).toBeNull();
  });

  it("refuses more columns than a table can show", () => {
    const wide = Object.fromEntries(Array.from({ length: MAX_TABLE_COLUMNS + 1 }, (_, i) => [`c${i}`, i]));
    expect(tabularColumns([wide])).toBeNull();
  });
});

describe("cellText", () => {
  it("shows strings as they are and other values as JSON", () => {
    expect(cellText("<b>x</b>")).toBe("<b>x</b>");
    expect(cellText(3)).toBe("3");
    expect(cellText(null)).toBe("null");
    expect(cellText(true)).toBe("true");
    expect(cellText(undefined)).toBe("");
  });
});
