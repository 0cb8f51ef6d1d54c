import { createHash } from "node:crypto";
import { z } from "zod";
import { defineFlow, FlowError } from "./types";
import { sleep } from "./util";

/** A number in [0, 1) fixed by seed and record id, so a re-run fails the same records. */
export function chaosRoll(seed: string, recordId: string): number {
  return createHash("sha256").update(`${seed}\u0000${recordId}`).digest().readUInt32BE(0) / 2 ** 32;
}

export const chaos = defineFlow({
  name: "chaos",
  description:
    "Fails a deterministic share of records (by record id and seed), optionally only on the first attempt, with optional delay and cost. For testing retries, error thresholds and budgets.",
  parameters: z.object({
    failure_rate: z.number().min(0).max(1).default(0.1),
    seed: z.string().default("chaos").describe("changes which records fail"),
    transient: z.boolean().default(false).describe("fail only on the first attempt, so a retry succeeds"),
    delay_ms: z.number().int().min(0).max(3_600_000).default(0),
    cost_per_item: z.number().min(0).default(0).describe("cost reported on every attempt"),
  }),
  async run(record, ctx) {
    const { params } = ctx;
    if (params.delay_ms > 0) await sleep(params.delay_ms, ctx.signal);
    if (params.cost_per_item > 0) ctx.reportCost(params.cost_per_item);
    const fails = chaosRoll(params.seed, record.id) < params.failure_rate;
    if (fails && !(params.transient && ctx.attempt > 1)) {
      throw new FlowError(params.transient ? "chaos_transient" : "chaos", `simulated failure for record ${JSON.stringify(record.id)}`, {
        retryable: true,
      });
    }
    return { record: record.data, attempt: ctx.attempt };
  },
});
