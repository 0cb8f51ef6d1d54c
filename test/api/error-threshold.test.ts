// error_threshold as the plain rate people write (0.5) or as the object {rate, min_finished}.
import { describe, expect, it } from "vitest";
import { DEFAULT_ERROR_THRESHOLD_MIN_FINISHED } from "@/lib/contract/batch-options";
import { useTestDatabase } from "../helpers/db";
import { createBatch } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

const withThreshold = (error_threshold: unknown) => createBatch({ flow: "echo", records: [{ id: "a" }], dry_run: true, error_threshold });

describe("error_threshold", () => {
  it("a plain number is the rate, with the default min_finished", async () => {
    const r = await withThreshold(0.5);
    expect(r.status).toBe(201);
    expect(DEFAULT_ERROR_THRESHOLD_MIN_FINISHED).toBe(10);
    expect(r.json.options.error_threshold).toEqual({ rate: 0.5, min_finished: 10 });
  });

  it("the object form is kept, min_finished defaulting the same way", async () => {
    expect((await withThreshold({ rate: 0.2, min_finished: 3 })).json.options.error_threshold).toEqual({ rate: 0.2, min_finished: 3 });
    expect((await withThreshold({ rate: 0.2 })).json.options.error_threshold).toEqual({ rate: 0.2, min_finished: 10 });
  });

  it("refuses a rate outside (0, 1] in either form, and other shapes, with a 422 on error_threshold", async () => {
    for (const bad of [0, 1.5, -1, "0.5", { rate: 2, min_finished: 1 }, { rate: 0.5, min_finished: 0 }, { rate: 0.5, extra: 1 }]) {
      const r = await withThreshold(bad);
      expect(r.status, JSON.stringify(bad)).toBe(422);
      expect(r.json.error.details.some((d: { path?: string }) => d.path?.startsWith("error_threshold")), JSON.stringify(r.json)).toBe(true);
    }
  });
});
