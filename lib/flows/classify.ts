import Sentiment from "sentiment";
import { z } from "zod";
import { lookupPlaceholder } from "./template";
import { defineFlow, FlowError } from "./types";

// AFINN-based and fully in-process: no network, no model download, so a first batch does real work offline
const analyzer = new Sentiment();

export const classify = defineFlow({
  name: "classify",
  description: "Labels each record's text positive, negative or neutral with an offline sentiment model (AFINN word list).",
  parameters: z.object({
    text_field: z.string().min(1).default("text").describe("the record field holding the text (dots for nested fields)"),
    neutral_threshold: z
      .number()
      .min(0)
      .default(0)
      .describe("scores whose per-word average (comparative) is within ± this are neutral"),
  }),
  defaultDataset: "demo-reviews",
  async run(record, ctx) {
    const text = typeof record.data === "string" ? record.data : lookupPlaceholder(`record.${ctx.params.text_field}`, record);
    if (typeof text !== "string") {
      throw new FlowError("invalid_record", `field "${ctx.params.text_field}" is not text`, { retryable: false });
    }
    const { score, comparative } = analyzer.analyze(text);
    const t = ctx.params.neutral_threshold;
    const label = comparative > t ? "positive" : comparative < -t ? "negative" : "neutral";
    return { label, score, comparative: Math.round(comparative * 10_000) / 10_000 };
  },
});
