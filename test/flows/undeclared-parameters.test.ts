// A parameter a flow does not declare is refused when the batch is created (422 naming it), at the
// top level and inside nested objects; flows that take free-form keys declare so.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createBatch } from "@/lib/engine";
import { getPool } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { listFlows, parseFlowParameters } from "@/lib/flows/registry";
import { defineFlow } from "@/lib/flows/types";
import { undeclaredKeys } from "@/lib/flows/undeclared-keys";
import { useTestDatabase } from "../helpers/db";

useTestDatabase();

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

const flow = (parameters: z.ZodType) => defineFlow({ name: "t-params", description: "", parameters, run: async () => null });

describe("undeclared flow parameters", () => {
  it("a batch naming an unknown parameter is a 422 naming it, and nothing is written", async () => {
    const before = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM batches`);
    const err = await createBatch({ flow: "echo", parameters: { my_param: "value" }, source: { kind: "records", records: ["a"], recordIdField: "id" } }).then(
      () => null,
      (e: unknown) => e as AppError,
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err!.status).toBe(422);
    expect(err!.details).toEqual([{ path: "parameters.my_param", message: 'not a parameter of flow "echo" (known here: delay_ms)' }]);
    expect(err!.message).toContain("parameters.my_param");
    const after = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM batches`);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it("a typo of a real parameter is named, beside the schema's own complaints", () => {
    const llm = listFlows().find((f) => f.name === "llm")!;
    const err = refusal(() => parseFlowParameters(llm, { modle: "gpt-4o-mini" }));
    expect(err.details.map((d) => d.path).sort()).toEqual(["parameters.model", "parameters.modle"]);
  });

  it("nested objects, array items and the option a discriminated union picks are checked too", () => {
    const llm = listFlows().find((f) => f.name === "llm")!;
    const nested = refusal(() => parseFlowParameters(llm, { model: "m", prices: { input_per_1M: 2 } }));
    expect(nested.details.map((d) => d.path)).toEqual(["parameters.prices.input_per_1M"]);
    const union = refusal(() => parseFlowParameters(llm, { model: "m", response_format: { type: "json_schema", schema: {}, strcit: true } }));
    expect(union.details.map((d) => d.path)).toEqual(["parameters.response_format.strcit"]);

    const items = flow(z.object({ rows: z.array(z.object({ a: z.number() })) }));
    expect(undeclaredKeys(items.parameters, { rows: [{ a: 1 }, { a: 2, b: 3 }] }).map((k) => k.path)).toEqual(["rows.1.b"]);
  });

  it("declared free-form parameters pass: z.looseObject, z.record and z.unknown", () => {
    const loose = flow(z.looseObject({ a: z.number().optional() }));
    expect(parseFlowParameters(loose, { a: 1, anything: "goes" })).toEqual({ a: 1, anything: "goes" });
    const record = flow(z.object({ headers: z.record(z.string(), z.string()), body: z.unknown() }));
    expect(parseFlowParameters(record, { headers: { "x-any": "1" }, body: { free: { form: true } } })).toEqual({
      headers: { "x-any": "1" },
      body: { free: { form: true } },
    });
  });

  it("every built-in flow accepts its own defaults and refuses an unknown key", () => {
    const required: Record<string, Record<string, unknown>> = {
      http: { url: "https://example.com/x" },
      llm: { model: "m" },
      embed: { model: "m" },
      openai: { endpoint: "/v1/embeddings" },
    };
    for (const f of listFlows()) {
      // off unless enabled: test/flows/command.test.ts, test/job-queue/agent-tasks.test.ts
      if (f.name === "command" || f.name === "files" || f.name === "agent") continue;
      const base = required[f.name] ?? {};
      expect(() => parseFlowParameters(f, base), f.name).not.toThrow();
      const err = refusal(() => parseFlowParameters(f, { ...base, not_a_parameter: 1 }));
      expect(err.details.map((d) => d.path), f.name).toEqual(["parameters.not_a_parameter"]);
    }
  });
});
