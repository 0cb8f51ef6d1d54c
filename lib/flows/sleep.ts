import { z } from "zod";
import { defineFlow } from "./types";
import { sleep as wait } from "./util";

export const sleep = defineFlow({
  name: "sleep",
  description: "Waits ms (plus or minus jitter_ms) per record, stopping at once when cancelled. For load tests and demos.",
  parameters: z.object({
    ms: z.number().int().min(0).max(3_600_000).default(1000),
    jitter_ms: z.number().int().min(0).max(3_600_000).default(0).describe("each wait is ms ± up to this much"),
  }),
  async run(_record, ctx) {
    const { ms, jitter_ms } = ctx.params;
    const slept = Math.max(0, Math.round(ms + (Math.random() * 2 - 1) * jitter_ms));
    await wait(slept, ctx.signal);
    return { slept_ms: slept };
  },
});
