// A chunked flow's call in provider_batch mode: the records that have the provider's outcome for
// this attempt take it; those a provider batch still holds stay parked; the rest are sent as one
// provider batch and park. Shared by every flow with a provider_batch mode.
import { FlowError, type ChunkContext, type ChunkOutcome, type FlowRecord } from "../types";
import type { KeptResponse } from "../openai";
import { BATCH_CLIENTS } from "./index";
import type { BatchProvider, ProviderOutcome, ProviderRequest } from "./types";

export interface ProviderBatchSpec {
  provider: BatchProvider;
  baseUrl: string;
  apiKeyEnv: string | undefined;
  /** the API path each request goes to (/v1/chat/completions, /v1/embeddings, /v1/messages) */
  endpoint: string;
  /** per HTTP call to the provider */
  timeoutMs: number;
  /** the request body a live call would send for this record */
  body(record: FlowRecord): Promise<Record<string, unknown>>;
  /** the record's result from the provider's answer, with its cost reported (ctx.reportCost(x, index)); throws a FlowError for an unusable answer */
  result(response: KeptResponse, index: number): unknown;
}

/** A failed provider outcome as the record's failure; the provider's answer, if any, is kept with it. */
function failure(o: Extract<ProviderOutcome, { ok: false }>): FlowError {
  return new FlowError(o.code, o.message, { retryable: o.retryable, rateLimited: false, result: o.response ? { response: o.response } : undefined });
}

export async function runProviderBatchChunk(records: FlowRecord[], ctx: ChunkContext, spec: ProviderBatchSpec): Promise<ChunkOutcome[]> {
  const states = await ctx.providerStates();
  const outcomes: ChunkOutcome[] = new Array(records.length);
  const requests: ProviderRequest[] = [];
  const sent: number[] = [];
  for (let i = 0; i < records.length; i++) {
    const state = states[i];
    if (state === "waiting") {
      outcomes[i] = { waitingProvider: true };
    } else if (state) {
      const o = state.outcome;
      if (!o.ok) outcomes[i] = { error: failure(o) };
      else {
        try {
          outcomes[i] = { result: spec.result(o.response, i) };
        } catch (err) {
          outcomes[i] = { error: err instanceof FlowError ? err : new FlowError("invalid_response", String((err as Error)?.message ?? err), { retryable: false }) };
        }
      }
    } else {
      try {
        requests.push({ customId: ctx.requestIds[i]!, body: await spec.body(records[i]!) });
        sent.push(i);
      } catch (err) {
        // a record that cannot even be sent (a file too large, not a file) fails alone
        if (!(err instanceof FlowError)) throw err;
        outcomes[i] = { error: err };
      }
    }
  }
  if (requests.length > 0) {
    const conn = { baseUrl: spec.baseUrl, apiKeyEnv: spec.apiKeyEnv, signal: ctx.signal, timeoutMs: spec.timeoutMs };
    const status = await BATCH_CLIENTS[spec.provider].submit(conn, requests, { endpoint: spec.endpoint, metadata: { batchboard_batch: ctx.batchId } });
    await ctx.recordProviderBatch({ provider: spec.provider, baseUrl: spec.baseUrl, apiKeyEnv: spec.apiKeyEnv, endpoint: spec.endpoint, status }, sent);
    ctx.log(`sent ${requests.length} records to ${spec.provider} as batch ${status.id}`);
    for (const i of sent) outcomes[i] = { waitingProvider: true };
  }
  return outcomes;
}
