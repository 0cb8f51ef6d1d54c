import { describe, expect, it } from "vitest";
import { autoStatsFields, detectLabelField } from "./summary-fields";

const f = (field: string, ...types: string[]) => ({ field, types });

describe("the fields a summary describes when none are named", () => {
  it("the label: the flow's own, else a label-named field, else the first of strings or booleans", () => {
    expect(detectLabelField("classify", [])).toBe("result.label");
    expect(detectLabelField("review", [f("result.category", "string")])).toBe("result.label");
    expect(detectLabelField("echo", [f("result.a", "string"), f("result.Sentiment", "string", "null")])).toBe("result.Sentiment");
    expect(detectLabelField("echo", [f("result.n", "number"), f("result.ok", "boolean"), f("result.s", "string")])).toBe("result.ok");
    expect(detectLabelField("echo", [f("result.n", "number"), f("result.mixed", "number", "string"), f("result.o", "object")])).toBeNull();
  });

  it("the numeric fields: the first three whose values were all numbers or null", () => {
    const fields = [f("result.a", "number"), f("result.b", "number", "string"), f("result.c", "null", "number"), f("result.d", "null"), f("result.e", "number"), f("result.g", "number")];
    expect(autoStatsFields(fields)).toEqual(["result.a", "result.c", "result.e"]);
  });
});
