import { describe, expect, it } from "vitest";
import { BATCH_NAME_MAX, fitBatchName } from "./batch-options";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe("fitBatchName", () => {
  it("keeps a name that fits and cuts a longer one to the limit with an ellipsis", () => {
    expect(fitBatchName("short")).toBe("short");
    const long = "x".repeat(BATCH_NAME_MAX + 50);
    expect(fitBatchName(long)).toBe(`${"x".repeat(BATCH_NAME_MAX - 1)}…`);
    expect(fitBatchName(long)).toHaveLength(BATCH_NAME_MAX);
  });

  it("never leaves half of an emoji at the cut", () => {
    // the emoji's first half falls on the last unit kept
    const text = `${"x".repeat(BATCH_NAME_MAX - 2)}🙂${"y".repeat(20)}`;
    const fitted = fitBatchName(text);
    expect(LONE_SURROGATE.test(fitted)).toBe(false);
    expect(fitted.length).toBeLessThanOrEqual(BATCH_NAME_MAX);
    expect(fitted.endsWith("x…")).toBe(true);
  });
});
