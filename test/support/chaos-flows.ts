// Flows the chaos harness runs besides the built-in ones: registered in the harness process (batch
// creation validates the flow) and in its worker processes (./chaos-worker.ts).
import { chaos, chaosRoll } from "@/lib/flows/chaos";
import { registerFlow } from "@/lib/flows/registry";
import { defineFlow, FlowError } from "@/lib/flows/types";
import { sleep } from "@/lib/flows/util";

/**
 * The chaos flow, many records per call (runChunk): one delay per call, then each record's chaos
 * outcome, as run() would give it (the same deterministic failures, cost per record and result).
 */
export const chaosChunk = defineFlow({
  name: "chaos-chunk",
  description: "the chaos flow in chunks: one delay per call, each record's outcome as the chaos flow's",
  parameters: chaos.parameters,
  chunk: { defaultSize: 25, maxSize: 1000 },
  run: chaos.run,
  async runChunk(records, ctx) {
    const { params } = ctx;
    if (params.delay_ms > 0) await sleep(params.delay_ms, ctx.signal);
    return records.map((r, i) => {
      if (params.cost_per_item > 0) ctx.reportCost(params.cost_per_item, i);
      const fails = chaosRoll(params.seed, r.id) < params.failure_rate;
      if (fails && !(params.transient && ctx.attempt > 1)) {
        return { error: new FlowError("chaos", `simulated failure for record ${JSON.stringify(r.id)}`, { retryable: true }) };
      }
      return { result: { record: r.data, attempt: ctx.attempt } };
    });
  },
});

export function registerChaosFlows(): void {
  registerFlow(chaosChunk as never);
}
