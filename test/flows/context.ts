// A FlowContext for running flows directly in tests: records reportCost/log/ask calls and hands
// the test the AbortController behind ctx.signal.
import type { z } from "zod";
import { parseFlowParameters } from "@/lib/flows/registry";
import type { AskOptions, ChunkContext, ChunkOutcome, FlowContext, FlowDefinition, FlowRecord, TokenUsage } from "@/lib/flows/types";

export interface TestContextOptions {
  attempt?: number;
  interactive?: boolean;
  batchId?: string;
  /** answers ctx.ask; default: returns options.default, or throws like a non-interactive engine */
  ask?: (options: AskOptions) => unknown;
  /** what ctx.answerInfo(key) reports */
  answerInfo?: (key: string) => { answeredBy: string | null; answeredAt: Date | null } | null;
}

export interface TestHarness<P> {
  ctx: FlowContext<P>;
  costs: number[];
  logs: { message: string; level: "info" | "warn" | "error" }[];
  asks: AskOptions[];
  /** what the flow passed to ctx.reportUsage, call by call */
  usage: TokenUsage[];
  abort(reason?: unknown): void;
  totalCost(): number;
}

export function createTestContext<P>(params: P, options: TestContextOptions = {}): TestHarness<P> {
  const controller = new AbortController();
  const costs: number[] = [];
  const logs: TestHarness<P>["logs"] = [];
  const asks: AskOptions[] = [];
  const usage: TokenUsage[] = [];
  const ctx: FlowContext<P> = {
    params,
    signal: controller.signal,
    batchId: options.batchId ?? "batch_test",
    attempt: options.attempt ?? 1,
    interactive: options.interactive ?? false,
    log: (message, level = "info") => void logs.push({ message, level }),
    reportCost: (amount) => void costs.push(amount),
    reportUsage: (u) => void usage.push(u),
    ask: async <T,>(o: AskOptions<T>): Promise<T> => {
      asks.push(o as AskOptions);
      if (options.ask) return (await options.ask(o as AskOptions)) as T;
      if (o.default !== undefined) return o.default;
      throw new Error("ask() without an answerer or default");
    },
    answerInfo: (key) => options.answerInfo?.(key) ?? null,
  };
  return {
    ctx,
    costs,
    logs,
    asks,
    usage,
    abort: (reason = new Error("aborted")) => controller.abort(reason),
    totalCost: () => costs.reduce((a, b) => a + b, 0),
  };
}

export function record(data: unknown, id = "r1", position = 0): FlowRecord {
  return { id, data, position };
}

/**
 * Validates raw parameters the way batch creation does (defaults applied, 422 on bad input),
 * then runs the flow once.
 */
export async function runFlow<S extends z.ZodType>(
  flow: FlowDefinition<S>,
  rec: FlowRecord,
  rawParams: unknown = {},
  options: TestContextOptions = {},
): Promise<{ result: unknown; harness: TestHarness<z.output<S>> }> {
  const params = parseFlowParameters(flow as unknown as FlowDefinition, rawParams) as z.output<S>;
  const harness = createTestContext(params, options);
  const result = await flow.run(rec, harness.ctx);
  return { result, harness };
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return promise.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e as Error & Record<string, unknown>,
  );
}

export interface ChunkHarness {
  costs: { amount: number; index?: number }[];
  usage: TokenUsage[];
  logs: { message: string; level: "info" | "warn" | "error"; index?: number }[];
}

/** Validates raw parameters as batch creation does, then runs the flow's runChunk once over `records`. */
export async function runChunkFlow<S extends z.ZodType>(
  flow: FlowDefinition<S>,
  records: FlowRecord[],
  rawParams: unknown = {},
): Promise<{ outcomes: ChunkOutcome[]; harness: ChunkHarness }> {
  const params = parseFlowParameters(flow as unknown as FlowDefinition, rawParams) as z.output<S>;
  const harness: ChunkHarness = { costs: [], usage: [], logs: [] };
  const ctx: ChunkContext<z.output<S>> = {
    params,
    signal: new AbortController().signal,
    batchId: "batch_test",
    attempt: 1,
    interactive: false,
    log: (message, level = "info", index) => void harness.logs.push({ message, level, index }),
    reportCost: (amount, index) => void harness.costs.push({ amount, index }),
    reportUsage: (u) => void harness.usage.push(u),
    requestIds: records.map((_, i) => `job-${i + 1}`),
    providerStates: async () => records.map(() => undefined),
    reserveProviderBatch: async () => {
      throw new Error("runChunkFlow records no provider batch: run provider_batch mode through a worker");
    },
    confirmProviderBatch: async () => false,
    recordProviderBatch: async () => false,
    failProviderBatch: async () => {},
  };
  const outcomes = await flow.runChunk!(records, ctx);
  return { outcomes, harness };
}
