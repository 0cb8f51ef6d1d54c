// A chunked flow's call in provider_batch mode: the records that have the provider's outcome for
// this attempt take it; those a provider batch still holds stay parked; the rest are sent as one
// provider batch and park. The submission is recorded before the provider is asked and names itself
// in the provider batch's metadata, so one whose answer is lost is found again rather than sent
// twice (OpenAI-compatible providers). Shared by every flow with a provider_batch mode.
import { FlowError, type ChunkContext, type ChunkOutcome, type FlowRecord } from "../types";
import type { KeptResponse } from "../openai";
import { BATCH_CLIENTS } from "./index";
import type { BatchProvider, ProviderBatchStatus, ProviderOutcome, ProviderRequest } from "./types";

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
    const client = BATCH_CLIENTS[spec.provider];
    // recorded first: a submitter that dies before recording the provider's id leaves a row that is
    // recovered (found at the provider by its metadata and adopted, or sent again) instead of an
    // orphan; while this call runs, the context holds it (a slow submission is not recovered)
    // recorded only while the records are this call's: another worker that took them over after
    // this one's lease lapsed finds the submission holding them (and parks them) or reserved its own
    // first (then this throws: nothing is sent)
    const submission = await ctx.reserveProviderBatch({ provider: spec.provider, baseUrl: spec.baseUrl, apiKeyEnv: spec.apiKeyEnv, endpoint: spec.endpoint }, sent);
    // the provider is asked to create the batch only while the submission is held and its records
    // still this call's; that request, once sent, runs to its answer (aborting it would not undo a
    // create the provider already took: its answer says what to cancel)
    let creating = false;
    const beforeCreate = async () => {
      if (!(await ctx.confirmProviderBatch(submission))) throw new SubmissionWithdrawn();
      creating = true;
    };
    let status: ProviderBatchStatus;
    try {
      status = await client.submit(conn, requests, { endpoint: spec.endpoint, metadata: { batchboard_batch: ctx.batchId, batchboard_submission: submission }, beforeCreate, createSignal: new AbortController().signal });
    } catch (err) {
      const message = String((err as Error)?.message ?? err);
      if (err instanceof SubmissionWithdrawn || !creating || !mayHaveCreated(err)) {
        // nothing created: the submission ends, and whoever holds the records now sends them
        await ctx.failProviderBatch(submission, message, false);
        if (!(err instanceof SubmissionWithdrawn)) throw err;
        ctx.log(`the submission of ${requests.length} records to ${spec.provider} was withdrawn before the provider was asked: ${message}`, "warn");
        // parked: woken at once with the submission's end (when still this call's), sent again
        for (const i of sent) outcomes[i] = { waitingProvider: true };
        return outcomes;
      }
      // no answer: the provider may hold the batch all the same; recovery finds it or fails the records with this error
      await ctx.failProviderBatch(submission, message, "maybe");
      ctx.log(`no answer from ${spec.provider} to the submission of ${requests.length} records (${message}): looking for it at the provider`, "warn");
      for (const i of sent) outcomes[i] = { waitingProvider: true };
      return outcomes;
    }
    if (!(await ctx.recordProviderBatch(submission, status))) {
      // not recorded: recovered meanwhile and ended (this call outlived its hold, and the provider did
      // not have the batch yet when the recovery looked), or the records were taken over by another
      // worker while the provider created it. Cancelled at the provider first, then the submission
      // ends: the records' next submission never runs beside this one. A cancel that fails leaves the
      // submission open: its recovery finds this batch and adopts it (still the only one).
      const cancelConn = { ...conn, signal: AbortSignal.timeout(spec.timeoutMs * 2) };
      const cancelled = await client.cancel(cancelConn, status.id).then(
        () => true,
        () => false,
      );
      if (cancelled) await ctx.failProviderBatch(submission, `provider batch ${status.id} was cancelled: its records were no longer this submitter's when it was created`, false);
      ctx.log(`provider batch ${status.id} was created after its records were lost or its submission recovered: ${cancelled ? "cancelled at the provider" : "its cancel failed, recovery adopts it"}; the records are sent again by whoever holds them`, "warn");
    } else ctx.log(`sent ${requests.length} records to ${spec.provider} as batch ${status.id}`);
    for (const i of sent) outcomes[i] = { waitingProvider: true };
  }
  return outcomes;
}

/** The submission's records were lost, or the submission recovered, before the provider was asked to create it. */
class SubmissionWithdrawn extends Error {
  constructor() {
    super("the records are no longer this call's, or the submission was recovered: the provider was not asked to create the batch");
  }
}

/**
 * Whether the provider may have created a batch though the submission failed: not when it answered
 * (an HTTP error) or nothing was sent (a key or URL refused); yes after a timeout, a dropped
 * connection or an answer that could not be read.
 */
function mayHaveCreated(err: unknown): boolean {
  if (!(err instanceof FlowError)) return true;
  return !(/^http_\d+$/.test(err.code) || ["url_not_allowed", "secret_not_allowed", "secret_missing", "secret_invalid", "header_invalid"].includes(err.code));
}
