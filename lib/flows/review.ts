import { z } from "zod";
import { defineFlow, FlowError } from "./types";

export interface ReviewResult {
  label: string;
  comment: string | null;
  answered_by: string | null;
  answered_at: string | null;
}

/** The Inbox answers a choice with its value, or with { label, comment?, answered_by?, answered_at? }. */
function toResult(answer: unknown): ReviewResult {
  if (answer !== null && typeof answer === "object" && "label" in answer) {
    const a = answer as Record<string, unknown>;
    const at = a.answered_at ?? a.answeredAt;
    return {
      label: String(a.label),
      comment: typeof a.comment === "string" && a.comment !== "" ? a.comment : null,
      answered_by: typeof (a.answered_by ?? a.answeredBy) === "string" ? String(a.answered_by ?? a.answeredBy) : null,
      answered_at: at instanceof Date ? at.toISOString() : typeof at === "string" ? at : null,
    };
  }
  return { label: String(answer), comment: null, answered_by: null, answered_at: null };
}

export const review = defineFlow({
  name: "review",
  description: "Asks a human to label each record in the Inbox (interactive batches); otherwise uses default_label.",
  parameters: z
    .object({
      question: z.string().min(1).default("How would you label this record?"),
      options: z.array(z.string().min(1)).min(1).default(["positive", "negative", "neutral"]),
      allow_free_text: z.boolean().default(false).describe("the reviewer may type a label not among the options"),
      default_label: z.string().min(1).optional().describe("used in non-interactive batches and when a prompt expires"),
      timeout_ms: z.number().int().min(1000).optional().describe("how long each question stays open"),
    })
    .refine((p) => p.default_label === undefined || p.allow_free_text || p.options.includes(p.default_label), {
      message: "default_label must be one of options (or allow_free_text)",
      path: ["default_label"],
    }),
  defaultDataset: "demo-reviews",
  asks: { defaultParameter: "default_label" },
  async run(_record, ctx) {
    const { params } = ctx;
    if (!ctx.interactive) {
      if (params.default_label === undefined) {
        throw new FlowError("input_required", "review needs an interactive batch or a default_label", { retryable: false });
      }
      return toResult(params.default_label);
    }
    // the engine re-runs this flow once answered; nothing above the ask has side effects
    const answer = await ctx.ask<unknown>({
      key: "label",
      question: params.question,
      input: { type: "choice", options: params.options.map((value) => ({ value })), allowFreeText: params.allow_free_text },
      default: params.default_label,
      timeoutMs: params.timeout_ms,
    });
    const who = ctx.answerInfo("label");
    const result = toResult(answer);
    result.answered_by ??= who?.answeredBy ?? null;
    result.answered_at ??= who?.answeredAt?.toISOString() ?? null;
    if (!params.allow_free_text && !params.options.includes(result.label)) {
      throw new FlowError("invalid_answer", `label ${JSON.stringify(result.label)} is not one of ${params.options.join(", ")}`, { retryable: false });
    }
    return result;
  },
});
