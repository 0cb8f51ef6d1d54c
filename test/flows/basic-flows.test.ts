import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { chaos, chaosRoll } from "@/lib/flows/chaos";
import { classify } from "@/lib/flows/classify";
import { echo } from "@/lib/flows/echo";
import { flowParametersJsonSchema, getFlowOrThrow, listFlows, parseFlowParameters } from "@/lib/flows/registry";
import { review } from "@/lib/flows/review";
import { sleep } from "@/lib/flows/sleep";
import { renderJsonTemplate, renderTemplate, shellQuote } from "@/lib/flows/template";
import { FlowError } from "@/lib/flows/types";
import { AppError } from "@/lib/errors";
import { createTestContext, record, rejection, runFlow } from "./context";

describe("registry", () => {
  it("lists every built-in flow with a JSON Schema for its parameters", () => {
    expect(listFlows().map((f) => f.name)).toEqual(["echo", "sleep", "chaos", "http", "llm", "embed", "openai", "classify", "review", "command", "files", "agent"]);
    for (const flow of listFlows()) expect(flowParametersJsonSchema(flow)).toMatchObject({ type: "object" });
    expect(["echo", "classify", "review"].map((n) => getFlowOrThrow(n).defaultDataset)).toEqual(["demo-reviews", "demo-reviews", "demo-reviews"]);
  });

  it("refuses bad parameters with paths under parameters", () => {
    const err = (() => {
      try {
        parseFlowParameters(getFlowOrThrow("chaos"), { failure_rate: 2, transient: "yes" });
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.code).toBe("validation_failed");
    expect(err?.details.map((d) => d.path).sort()).toEqual(["parameters.failure_rate", "parameters.transient"]);
  });
});

describe("templates", () => {
  const rec = record({ a: { b: "deep" }, n: 3, s: "it's" }, "id-1");
  it("substitutes fields, nested fields, the whole record and the id", () => {
    expect(renderTemplate("{{record.a.b}}/{{ record.n }}/{{record_id}}", rec)).toBe("deep/3/id-1");
    expect(renderTemplate("{{record}}", rec)).toBe('{"a":{"b":"deep"},"n":3,"s":"it\'s"}');
    expect(renderJsonTemplate({ x: "{{record.a}}", y: ["n={{record.n}}"], z: 1 }, rec)).toEqual({ x: { b: "deep" }, y: ["n=3"], z: 1 });
  });
  it("fails for good on a missing field or unknown placeholder, naming it", () => {
    expect(() => renderTemplate("{{record.a.c}}", rec)).toThrow(/no field "a.c"/);
    expect(() => renderTemplate("{{item.x}}", rec)).toThrow(FlowError);
  });
  it("shell-quotes values so they stay one word", () => {
    expect(renderTemplate("echo {{record.s}}", rec, shellQuote)).toBe(`echo 'it'\\''s'`);
  });
});

describe("echo", () => {
  it("returns the record's data", async () => {
    expect((await runFlow(echo, record({ x: 1 }))).result).toEqual({ x: 1 });
  });
});

describe("sleep", () => {
  it("waits and reports how long", async () => {
    const { result } = await runFlow(sleep, record(null), { ms: 5, jitter_ms: 3 });
    const slept = (result as { slept_ms: number }).slept_ms;
    expect(slept).toBeGreaterThanOrEqual(2);
    expect(slept).toBeLessThanOrEqual(8);
  });

  it("stops at once when aborted, rejecting with the abort reason", async () => {
    const h = createTestContext(sleep.parameters.parse({ ms: 3_600_000 }));
    const running = sleep.run(record(null), h.ctx);
    const reason = new Error("cancelled");
    h.abort(reason);
    // an hour-long sleep settling at all shows it stopped at the abort
    expect(await rejection(running)).toBe(reason);
  });

  it("refuses to start when already aborted", async () => {
    const h = createTestContext(sleep.parameters.parse({ ms: 3_600_000 }));
    h.abort(new Error("gone"));
    expect((await rejection(sleep.run(record(null), h.ctx))).message).toBe("gone");
  });
});

describe("chaos", () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `rec-${i}`);

  async function failures(params: Record<string, unknown>, attempt = 1) {
    const parsed = chaos.parameters.parse(params);
    const failed: string[] = [];
    for (const id of ids) {
      const h = createTestContext(parsed, { attempt });
      try {
        await chaos.run(record({ id }, id), h.ctx);
      } catch (err) {
        expect(err).toBeInstanceOf(FlowError);
        failed.push(id);
      }
    }
    return failed;
  }

  it("fails about failure_rate of records, the same ones every time for a seed", async () => {
    const first = await failures({ failure_rate: 0.3, seed: "s1" });
    expect(first.length).toBeGreaterThan(500);
    expect(first.length).toBeLessThan(700);
    expect(await failures({ failure_rate: 0.3, seed: "s1" })).toEqual(first);
    expect(await failures({ failure_rate: 0.3, seed: "s2" })).not.toEqual(first);
    expect(await failures({ failure_rate: 0 })).toEqual([]);
    expect(await failures({ failure_rate: 1 })).toHaveLength(ids.length);
    expect(first.every((id) => chaosRoll("s1", id) < 0.3)).toBe(true);
  });

  it("transient failures only fail the first attempt", async () => {
    expect((await failures({ failure_rate: 1, transient: true }, 1)).length).toBe(ids.length);
    expect(await failures({ failure_rate: 1, transient: true }, 2)).toEqual([]);
    expect(await failures({ failure_rate: 1, transient: false }, 2)).toHaveLength(ids.length);
  });

  it("reports cost_per_item on every attempt, failed or not", async () => {
    const h = createTestContext(chaos.parameters.parse({ failure_rate: 1, cost_per_item: 0.5 }));
    await rejection(chaos.run(record({}, "x"), h.ctx));
    expect(h.costs).toEqual([0.5]);
  });
});

describe("classify", () => {
  it("labels sentiment offline", async () => {
    const run = async (text: string) => (await runFlow(classify, record({ text }))).result as { label: string; score: number };
    expect(await run("I love it, absolutely fantastic and wonderful")).toMatchObject({ label: "positive" });
    expect((await run("Terrible, awful, broke in a week. Horrible.")).label).toBe("negative");
    expect((await run("The box is blue.")).label).toBe("neutral");
    expect(((await runFlow(classify, record("great stuff"))).result as { label: string }).label).toBe("positive");
  });

  it("uses text_field and fails for good when it is missing", async () => {
    const { result } = await runFlow(classify, record({ body: { review: "awful" } }), { text_field: "body.review" });
    expect(result).toMatchObject({ label: "negative" });
    expect(await rejection(runFlow(classify, record({ other: "x" })))).toMatchObject({ retryable: false });
  });

  it("mostly agrees with the star ratings of the demo dataset", async () => {
    const lines = readFileSync(path.join(process.cwd(), "data/demo/reviews.jsonl"), "utf8").trim().split("\n").slice(0, 400);
    let agree = 0;
    let polar = 0;
    for (const line of lines) {
      const r = JSON.parse(line) as { id: string; rating: number };
      if (r.rating === 3) continue;
      polar++;
      const { label } = (await runFlow(classify, record(r, r.id))).result as { label: string };
      if (label === (r.rating >= 4 ? "positive" : "negative")) agree++;
    }
    expect(agree / polar).toBeGreaterThan(0.8);
  });
});

describe("review", () => {
  it("asks with the question and options, and returns the answer's label and comment", async () => {
    const { result, harness } = await runFlow(
      review,
      record({ text: "hm" }),
      { question: "Sentiment?", options: ["pos", "neg"], allow_free_text: false },
      { interactive: true, ask: () => ({ label: "neg", comment: "sarcastic", answered_by: "ana", answered_at: "2026-01-01T00:00:00.000Z" }) },
    );
    expect(result).toEqual({ label: "neg", comment: "sarcastic", answered_by: "ana", answered_at: "2026-01-01T00:00:00.000Z" });
    expect(harness.asks[0]).toMatchObject({
      key: "label",
      question: "Sentiment?",
      input: { type: "choice", options: [{ value: "pos" }, { value: "neg" }], allowFreeText: false },
    });
  });

  it("accepts a plain value as the answer", async () => {
    const { result } = await runFlow(review, record({}), {}, { interactive: true, ask: () => "neutral" });
    expect(result).toEqual({ label: "neutral", comment: null, answered_by: null, answered_at: null });
  });

  it("refuses an answer outside the options unless free text is allowed", async () => {
    expect(await rejection(runFlow(review, record({}), {}, { interactive: true, ask: () => "meh" }))).toMatchObject({ code: "invalid_answer" });
    const { result } = await runFlow(review, record({}), { allow_free_text: true }, { interactive: true, ask: () => "meh" });
    expect(result).toMatchObject({ label: "meh" });
  });

  it("uses default_label in a non-interactive batch, or fails with input_required", async () => {
    const { result, harness } = await runFlow(review, record({}), { default_label: "neutral" });
    expect(result).toEqual({ label: "neutral", comment: null, answered_by: null, answered_at: null });
    expect(harness.asks).toHaveLength(0);
    expect(await rejection(runFlow(review, record({})))).toMatchObject({ code: "input_required", retryable: false });
  });

  it("lets ask() failures (the engine parking the job) propagate", async () => {
    const park = new Error("parked");
    expect(await rejection(runFlow(review, record({}), {}, { interactive: true, ask: () => Promise.reject(park) }))).toBe(park);
  });

  it("refuses a default_label that is not an option", () => {
    expect(() => parseFlowParameters(review as never, { options: ["a"], default_label: "b" })).toThrow(AppError);
  });
});
