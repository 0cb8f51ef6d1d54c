import { describe, expect, it } from "vitest";
import { configEntries, formatConfigValue } from "./config-entries";

describe("configEntries", () => {
  it("lists every key in order, whatever it is called, with unset ones marked", () => {
    expect(
      configEntries({ concurrency: 5, cache: false, cost_reservation: { per_record: 0.01 }, seed: "s1", ttl_seconds: null, some_new_option: ["a", 1] }),
    ).toEqual([
      { key: "concurrency", value: "5", unset: false },
      { key: "cache", value: "false", unset: false },
      { key: "cost_reservation", value: '{"per_record":0.01}', unset: false },
      { key: "seed", value: "s1", unset: false },
      { key: "ttl_seconds", value: "not set", unset: true },
      { key: "some_new_option", value: '["a",1]', unset: false },
    ]);
  });

  it("has no rows for a missing or empty object", () => {
    expect(configEntries(undefined)).toEqual([]);
    expect(configEntries({})).toEqual([]);
  });

  it("keeps strings as they are and says when nothing is set", () => {
    expect(formatConfigValue("mean")).toBe("mean");
    expect(formatConfigValue(undefined)).toBe("not set");
    expect(formatConfigValue(0)).toBe("0");
  });
});
