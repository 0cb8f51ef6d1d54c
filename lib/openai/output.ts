// A /v1 batch's output file (requests that succeeded) and error file (every other finished request),
// generated from its results in source order when read: the lines of the `openai` export.
import { openAIOutputLine } from "@/lib/datasets/export";
import { streamResults } from "@/lib/engine/jobs";
import type { JobStatus } from "@/lib/engine/types";
import type { BatchUsage } from "./objects";

const STATUSES: Record<"output" | "error", JobStatus[]> = {
  output: ["succeeded"],
  error: ["failed", "cancelled", "skipped"],
};

export async function* outputLines(batchId: string, kind: "output" | "error"): AsyncGenerator<string> {
  for await (const row of streamResults(batchId, { status: STATUSES[kind] })) yield openAIOutputLine(row, batchId);
}

export interface OutputCount {
  output: { lines: number; bytes: number };
  error: { lines: number; bytes: number };
  usage: BatchUsage;
}

const tokens = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.round(v) : 0);

/** Reads every result once: the two files' sizes in bytes, and the token usage the responses report. */
export async function countOutput(batchId: string): Promise<OutputCount> {
  const count: OutputCount = {
    output: { lines: 0, bytes: 0 },
    error: { lines: 0, bytes: 0 },
    usage: { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 },
  };
  const { usage } = count;
  for await (const row of streamResults(batchId, { status: [...STATUSES.output, ...STATUSES.error] })) {
    const file = row.status === "succeeded" ? count.output : count.error;
    file.lines++;
    file.bytes += Buffer.byteLength(openAIOutputLine(row, batchId));
    const u = (row.result as { response?: { body?: { usage?: Record<string, unknown> } } } | null)?.response?.body?.usage;
    if (!u || typeof u !== "object") continue;
    const input = tokens(u.prompt_tokens ?? u.input_tokens);
    const output = tokens(u.completion_tokens ?? u.output_tokens);
    const inDetails = (u.prompt_tokens_details ?? u.input_tokens_details) as Record<string, unknown> | undefined;
    const outDetails = (u.completion_tokens_details ?? u.output_tokens_details) as Record<string, unknown> | undefined;
    usage.input_tokens += input;
    usage.output_tokens += output;
    usage.input_tokens_details.cached_tokens += tokens(inDetails?.cached_tokens);
    usage.output_tokens_details.reasoning_tokens += tokens(outDetails?.reasoning_tokens);
    usage.total_tokens += tokens(u.total_tokens) || input + output;
  }
  return count;
}
