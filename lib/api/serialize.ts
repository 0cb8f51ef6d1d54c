// The one mapping between lib/ and the snake_case wire (a batch: its stored row, the Prisma model, to
// BatchSchema), and where the derived numbers (percent, duration, rate, ETA, projected cost) are
// computed, so every client sees the same ones.
import "server-only";
import type { Dataset as DatasetModel, DatasetRecordItem } from "@/lib/datasets";
import type * as E from "@/lib/engine/types";
import type { BatchDetail, BatchRead, CreateBatchInput } from "@/lib/engine";
import { rateLimitAsked, type RateLimitAsked } from "@/lib/engine/rate-limits";
import type { BatchSummary as SummaryModel } from "@/lib/engine/summary";
import type { BulkOutcome } from "@/lib/engine/bulk-jobs";
import type { ProviderBatchInfo } from "@/lib/engine/provider-batches";
import type { ChunkSize, ChunkSizes, FlowDefinition, PromptInput } from "@/lib/flows/types";
import { flowParametersJsonSchema, flowWarnings, getFlow } from "@/lib/flows/registry";
import type { z } from "zod";
import type { Batch, BatchOutcome, BatchSummary, BulkJobsResponse, CreatedBatchSchema, Dataset, DatasetRecordSchema, FlowSchema, Job, JobDetail, MetricsSchema, Prompt, ProviderBatchesSchema, ResultLine, Stats, WorkerSchema } from "@/lib/contract/schemas";

const isoOrNull = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * A URL as it may be shown to any reader: query values, user-info and fragment replaced by ***
 * (webhook URLs often carry a token there). The stored URL stays intact for delivery.
 */
export function maskUrlSecrets(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "***";
  }
  if (url.username) url.username = "***";
  if (url.password) url.password = "***";
  if (url.search) {
    const parts = url.search.slice(1).split("&").filter(Boolean);
    url.search = parts.map((p) => (p.includes("=") ? `${p.slice(0, p.indexOf("="))}=***` : "***")).join("&");
  }
  if (url.hash) url.hash = "***";
  return url.toString();
}

/**
 * How a finished batch ended. A stop reads its numbers as kept when it happened (stop_detail); a stop
 * written without them (by a worker older than that column) reads them from the counters.
 */
export function toOutcomeJson(b: BatchRead): BatchOutcome {
  const share = (processed: number) => ({ processed, total: b.total, percent: b.total > 0 ? round((processed / b.total) * 100) : 0 });
  const d = stopDetailOf(b);
  if (b.status === "cancelled") return { kind: "cancelled_at", ...share(d?.reason === "cancelled" ? d.processed : b.succeeded + b.failed) };
  if (b.status === "failed") return { kind: "stopped", ...share(b.succeeded + b.failed), stop: toStopJson(b) };
  if (b.status !== "completed") return null;
  if (b.failed === 0 && b.succeeded === 0) return { kind: "cancelled_at", ...share(0) }; // every job cancelled one by one
  if (b.failed === 0) return { kind: "all_succeeded", succeeded: b.succeeded };
  if (b.succeeded === 0) return { kind: "all_failed", failed: b.failed };
  return { kind: "some_failed", succeeded: b.succeeded, failed: b.failed };
}

const stopDetailOf = (b: BatchRead) => b.stopDetail as E.StopDetail | null;
/** The limit as asked for, as kept (snake_case, only the fields given). */
const rateLimitOf = (b: BatchRead) => b.rateLimit as RateLimitAsked | null;

type StopJson = Extract<NonNullable<BatchOutcome>, { kind: "stopped" }>["stop"];

function toStopJson(b: BatchRead): StopJson {
  const kept = stopDetailOf(b);
  const d = kept && kept.reason !== "cancelled" ? kept : stopFromCounters(b);
  switch (d.reason) {
    case "error_threshold":
      return { reason: d.reason, failed: d.failed, finished: d.finished, rate: round(d.rate, 4), threshold: d.threshold, min_finished: d.minFinished };
    case "budget_exhausted":
      return { reason: d.reason, spent: d.spent, max_cost: d.maxCost };
    case "error_policy":
      return { reason: d.reason, failed: d.failed, record_id: d.recordId, error: d.error };
  }
}

/** A stop written without its numbers (by a worker older than stop_detail): the counters' numbers. */
function stopFromCounters(b: BatchRead): Exclude<E.StopDetail, { reason: "cancelled" }> {
  const finished = b.succeeded + b.failed;
  if (b.stopReason === "error_threshold") {
    const minFinished = b.errorThresholdRate === null ? 1 : (b.errorThresholdMinFinished ?? 1);
    return { reason: "error_threshold", failed: b.failed, finished, rate: finished ? b.failed / finished : 0, threshold: b.errorThresholdRate ?? 0, minFinished };
  }
  if (b.stopReason === "budget_exhausted") return { reason: "budget_exhausted", spent: b.costSpent, maxCost: b.maxCost ?? 0 };
  return { reason: "error_policy", failed: b.failed, recordId: null, error: null };
}

/** A batch as the API returns it: the one mapping from its stored row (with the rate read, and on GET one batch its limit's live state). */
export function toBatchJson(b: BatchRead & Partial<Pick<BatchDetail, "rateLimitState">>, now = Date.now()): Batch {
  const finished = b.succeeded + b.failed + b.cancelled + b.skipped;
  const terminal = b.status === "completed" || b.status === "failed" || b.status === "cancelled";
  const durationSeconds = b.startedAt ? Math.max(0, ((b.completedAt?.getTime() ?? now) - b.startedAt.getTime()) / 1000) : null;
  const rate = b.itemsPerSecond;
  const remaining = Math.max(0, b.total - finished);
  const etaSeconds = terminal ? null : remaining === 0 ? 0 : rate && rate > 0 && b.status === "running" ? remaining / rate : null;
  const projected = terminal ? b.costSpent : finished > 0 ? (b.costSpent / finished) * b.total : null;
  const rateLimit = rateLimitOf(b);
  return {
    id: b.id,
    name: b.name,
    flow: b.flow,
    parameters: b.parameters ?? {},
    dataset_id: b.datasetId,
    parent_id: b.parentId,
    status: b.status,
    stop_reason: b.stopReason,
    outcome: toOutcomeJson(b),
    options: {
      shuffle: b.shuffle,
      seed: b.seed,
      max_records: b.maxRecords,
      concurrency: b.concurrency,
      chunk_size: b.chunkSize,
      error_policy: b.errorPolicy,
      error_threshold: b.errorThresholdRate === null ? null : { rate: b.errorThresholdRate, min_finished: b.errorThresholdMinFinished ?? 1 },
      interactive: b.interactive,
      max_retries: b.maxRetries,
      max_interruptions: b.maxInterruptions,
      retry_backoff_ms: b.retryBackoffMs,
      timeout_ms: b.timeoutMs,
      max_cost: b.maxCost,
      cost_reservation: b.costReservation === "mean" ? "mean" : b.costReservation === "per_record" ? { per_record: b.costReservationPerRecord ?? 0 } : null,
      priority: b.priority,
      webhook_url: b.webhookUrl === null ? null : maskUrlSecrets(b.webhookUrl),
      dry_run: b.dryRun,
      ttl_seconds: b.ttlSeconds ?? null,
      save_raw: b.saveRaw,
      cache: b.cache,
      cache_max_age: b.cacheMaxAgeSeconds,
      cache_answers: b.cacheAnswers,
      rate_limit: rateLimit ? rateLimitAsked(rateLimit) : null,
    },
    progress: {
      total: b.total,
      pending: b.pending,
      running: b.running,
      reserved: b.reserved,
      waiting_input: b.waitingInput,
      waiting_provider: b.waitingProvider,
      succeeded: b.succeeded,
      failed: b.failed,
      cancelled: b.cancelled,
      skipped: b.skipped,
      percent: b.total > 0 ? round((finished / b.total) * 100) : terminal ? 100 : 0,
    },
    cost: { spent: b.costSpent, max: b.maxCost, projected_total: projected === null ? null : round(projected, 6) },
    reused: { jobs: b.cached, saved_cost: b.cacheSavedCost },
    timing: {
      created_at: b.createdAt.toISOString(),
      started_at: isoOrNull(b.startedAt),
      completed_at: isoOrNull(b.completedAt),
      duration_seconds: durationSeconds === null ? null : round(durationSeconds, 3),
      items_per_second: rate === null ? null : round(rate, 3),
      eta_seconds: etaSeconds === null ? null : Math.ceil(etaSeconds),
    },
    metadata: (b.metadata as Record<string, unknown> | null) ?? {},
    rate_limit: toRateLimitJson(rateLimit, b),
  };
}

function toRateLimitJson(asked: RateLimitAsked | null, b: BatchRead & Partial<Pick<BatchDetail, "rateLimitState">>): Batch["rate_limit"] {
  if (!asked || !b.rateLimitKey) return null;
  const s = b.rateLimitState;
  if (!s) {
    return {
      key: asked.key ?? null,
      requests_per_minute: asked.requests_per_minute ?? null,
      tokens_per_minute: asked.tokens_per_minute ?? null,
      current_requests_per_minute: null,
      current_tokens_per_minute: null,
      paused_until: null,
      recent_requests_per_minute: null,
      recent_tokens_per_minute: null,
      shared_with: null,
      waiting: null,
    };
  }
  return {
    key: s.key,
    requests_per_minute: s.requestsPerMinute,
    tokens_per_minute: s.tokensPerMinute,
    current_requests_per_minute: s.currentRequestsPerMinute,
    current_tokens_per_minute: s.currentTokensPerMinute,
    paused_until: isoOrNull(s.pausedUntil),
    recent_requests_per_minute: s.recentRequestsPerMinute,
    recent_tokens_per_minute: s.recentTokensPerMinute,
    shared_with: s.sharedWith,
    waiting: s.waiting,
  };
}

/** A batch just created, with what is worth saying before it runs. */
export function toCreatedBatchJson(b: BatchRead): z.infer<typeof CreatedBatchSchema> {
  const flow = getFlow(b.flow);
  return { ...toBatchJson(b), warnings: flow ? flowWarnings(flow, b.parameters, b.interactive) : [] };
}

export function toJobJson(j: E.Job): Job {
  return {
    record_id: j.recordId,
    ordinal: j.ordinal,
    position: j.position,
    status: j.status,
    attempts: j.attempts,
    interruptions: j.interruptions,
    cost: j.cost,
    cached_from: j.cachedFrom,
    error: j.error,
    started_at: isoOrNull(j.startedAt),
    finished_at: isoOrNull(j.finishedAt),
    duration_ms: j.durationMs,
    result_preview: j.resultPreview,
  };
}

function toPromptInputJson(input: PromptInput): Prompt["input"] {
  switch (input.type) {
    case "choice":
      return { type: "choice", options: input.options, allow_free_text: input.allowFreeText ?? false };
    case "text":
      return { type: "text", multiline: input.multiline ?? false, max_length: input.maxLength ?? null };
    case "number":
      return { type: "number", min: input.min ?? null, max: input.max ?? null };
    case "boolean":
      return { type: "boolean" };
    case "json":
      return { type: "json", schema: input.schema ?? null };
  }
}

export function toPromptJson(p: E.Prompt): Prompt {
  return {
    id: p.id,
    batch_id: p.batchId,
    record_id: p.recordId,
    key: p.key,
    question: p.question,
    input: toPromptInputJson(p.input ?? { type: "json" }),
    default: p.defaultValue ?? null,
    status: p.status,
    answer: p.answer ?? null,
    answered_by: p.answeredBy,
    created_at: p.createdAt.toISOString(),
    answered_at: isoOrNull(p.answeredAt),
    expires_at: isoOrNull(p.expiresAt),
    record: p.record ?? null,
  };
}

export function toJobDetailJson(j: E.JobDetail): JobDetail {
  return {
    ...toJobJson(j),
    batch_id: j.batchId,
    record: j.record ?? null,
    result: j.result ?? null,
    logs: j.logs,
    run_at: j.runAt.toISOString(),
    prompts: j.prompts.map(toPromptJson),
    attempt_history: j.attemptHistory.map((a) => ({
      attempt: a.attempt,
      outcome: a.outcome,
      started_at: isoOrNull(a.startedAt),
      finished_at: a.finishedAt.toISOString(),
      duration_ms: a.durationMs,
      cost: a.cost,
      error: a.error,
    })),
  };
}

export function toResultLine(r: E.ResultRow): ResultLine {
  return { record_id: r.recordId, status: r.status, result: r.result ?? null, error: r.error, cost: r.cost };
}

export function toProviderBatchesJson(list: ProviderBatchInfo[]): z.infer<typeof ProviderBatchesSchema> {
  return {
    items: list.map((p) => ({
      id: p.id,
      provider: p.provider,
      provider_batch_id: p.providerBatchId,
      status: p.providerStatus,
      requests: p.requests,
      succeeded: p.succeeded,
      failed: p.failed,
      submitted_at: p.submittedAt.toISOString(),
      expires_at: isoOrNull(p.expiresAt),
      ended_at: isoOrNull(p.endedAt),
      cancel_requested_at: isoOrNull(p.cancelRequestedAt),
      polls: p.polls,
      next_poll_at: isoOrNull(p.nextPollAt),
      error: p.error,
    })),
  };
}

export function toMetricsJson(m: { bucketSeconds: number; series: E.MetricsPoint[] }): z.infer<typeof MetricsSchema> {
  return {
    bucket_seconds: m.bucketSeconds,
    series: m.series.map((p) => ({
      t: p.t.toISOString(),
      succeeded: p.succeeded,
      failed: p.failed,
      cost: p.cost,
      cumulative_cost: p.cumulativeCost,
      p50_ms: p.p50Ms,
      p95_ms: p.p95Ms,
    })),
  };
}

const chunkSizeJson = (c: ChunkSize) => ({ default_size: c.defaultSize, max_size: c.maxSize, min_size: c.minSize ?? 1 });

function chunkJson(c: ChunkSizes): NonNullable<z.infer<typeof FlowSchema>["chunk"]> {
  if ("modes" in c) {
    const modes = Object.fromEntries(Object.entries(c.modes).map(([value, sizes]) => [value, chunkSizeJson(sizes)]));
    return { default_size: null, max_size: null, min_size: null, parameter: c.parameter, modes };
  }
  return { ...chunkSizeJson(c), parameter: c.parameter ?? null, modes: null };
}

export function toFlowJson(f: FlowDefinition): z.infer<typeof FlowSchema> {
  return {
    name: f.name,
    description: f.description,
    parameters_schema: flowParametersJsonSchema(f),
    default_dataset: f.defaultDataset ?? null,
    cache: f.cache ?? false,
    asks: f.asks ? { default_parameter: f.asks.defaultParameter ?? null } : null,
    chunk: f.runChunk && f.chunk ? chunkJson(f.chunk) : null,
  };
}

export function toDatasetJson(d: DatasetModel): Dataset {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    description: d.description,
    format: d.format,
    id_field: d.idField,
    record_count: d.recordCount,
    size_bytes: d.sizeBytes,
    created_at: d.createdAt.toISOString(),
  };
}

export function toDatasetRecordJson(r: DatasetRecordItem): z.infer<typeof DatasetRecordSchema> {
  return { record_id: r.recordId, position: r.position, data: r.data };
}

export function toBatchSummaryJson(s: SummaryModel): BatchSummary {
  const b = s.batch;
  const { succeeded, failed } = s.counts;
  // a partial success: some records failed, some did not, and the batch was not stopped for it
  const partial = succeeded > 0 && failed > 0 && b.status !== "failed";
  return {
    batch_id: b.id,
    status: b.status,
    outcome: toOutcomeJson(b),
    counts: s.counts,
    partial_success: partial
      ? { succeeded, failed, failure_rate: round(failed / (succeeded + failed), 4), threshold: b.errorThresholdRate }
      : null,
    errors: s.errors,
    retries_used: s.retriesUsed,
    cost: { total: s.cost.total, mean_per_record: s.cost.meanPerRecord, max_cost: b.maxCost },
    duration_ms: { count: s.duration.count, mean: s.duration.meanMs, min: s.duration.minMs, max: s.duration.maxMs, p50: s.duration.p50Ms, p95: s.duration.p95Ms },
    fields: s.fields,
    group_by: s.groupBy,
    stats: s.stats,
  };
}

export function toStatsJson(s: E.Stats, batchJobs: Stats["batch_jobs"]): Stats {
  return {
    jobs: s.jobs,
    batches: s.batches,
    queue_depth: s.queueDepth,
    workers: s.workers,
    open_prompts: s.openPrompts,
    throughput: { last_1m: s.throughput.last1m, last_5m: s.throughput.last5m, last_60m: s.throughput.last60m },
    series: s.series.map((p) => ({ t: p.t.toISOString(), succeeded: p.succeeded, failed: p.failed })),
    batch_jobs: batchJobs,
  };
}

export function toWorkerJson(w: E.WorkerInfo): z.infer<typeof WorkerSchema> {
  return {
    id: w.id,
    host: w.host,
    pid: w.pid,
    mode: w.mode,
    concurrency: w.concurrency,
    started_at: w.startedAt.toISOString(),
    heartbeat_at: w.heartbeatAt.toISOString(),
    running: w.running,
    processed: w.processed,
    failed: w.failed,
    alive: w.alive,
  };
}

export function toPage<T, U>(page: E.Page<T>, map: (t: T) => U) {
  return { items: page.items.map(map), next_cursor: page.nextCursor, total: page.total };
}

/** The validated POST /api/batches body as the engine takes it: the same settings, and the source its dataset / records name. */
export function toCreateBatchInput(b: z.output<typeof import("@/lib/contract/batch-options").createBatchSchema>): CreateBatchInput {
  const { dataset, records, record_id_field, ...settings } = b;
  const source: E.BatchSource = records
    ? { kind: "records", records, recordIdField: record_id_field ?? "id" }
    : dataset
      ? { kind: "dataset", dataset }
      : { kind: "flow_default" };
  return { ...settings, source };
}

const BULK_VERB = { retry: "retried", cancel: "cancelled" } as const;

/** What a bulk retry or cancel did, with a sentence that says which jobs it applies to. */
export function toBulkJobsJson(o: BulkOutcome, batch: Batch): BulkJobsResponse {
  const applies = o.appliesTo.map((s) => s.replace("_", " ")).join(" and ");
  const parts = [`${o.changed} ${o.changed === 1 ? "job" : "jobs"} ${BULK_VERB[o.action]}`];
  if (o.unchanged) parts.push(`${o.unchanged} left unchanged (${o.action} applies only to ${applies} jobs)`);
  if (o.notFound.length) parts.push(`${o.notFound.length} record ${o.notFound.length === 1 ? "id" : "ids"} not found`);
  return {
    action: o.action,
    applies_to: [...o.appliesTo],
    matched: o.matched,
    changed: o.changed,
    unchanged: o.unchanged,
    not_found: o.notFound,
    message: parts.join("; "),
    batch,
  };
}
