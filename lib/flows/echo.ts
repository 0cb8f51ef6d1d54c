import { z } from "zod";
import { defineFlow } from "./types";
import { sleep } from "./util";

export const echo = defineFlow({
  name: "echo",
  description: "Returns each record unchanged, optionally after a delay. Useful to test a pipeline end to end.",
  parameters: z.object({
    delay_ms: z.number().int().min(0).max(3_600_000).default(0).describe("wait this long before returning"),
  }),
  defaultDataset: "demo-reviews",
  async run(record, ctx) {
    if (ctx.params.delay_ms > 0) await sleep(ctx.params.delay_ms, ctx.signal);
    return record.data;
  },
});
