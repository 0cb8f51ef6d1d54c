// /api/batch: an embedding job is an ordinary batch of the `embed` flow over the documents as inline
// records, in document order (dashboard, CLI, retry and cost all apply), plus an adapter_jobs row that
// marks it as this API's. The model picks the upstream as /v1 batches do (BATCHBOARD_MODEL_ROUTES,
// else OPENAI_BASE_URL). A finished job expires after an hour: it answers 404 from then on and the
// retention sweep deletes it.
import "server-only";
import { getPool } from "@/lib/db/client";
import { embedJobCounts, findEmbedJob, insertAdapterJob, listEmbedJobRows } from "@/lib/db/sql/adapter-jobs";
import { fitBatchName } from "@/lib/contract/batch-options";
import { cancelBatch, createBatch, streamResults } from "@/lib/engine";
import { toBatch, type BatchRead } from "@/lib/engine/map";
import { AppError } from "@/lib/errors";
import {
  EMBED_JOB_TTL_SECONDS,
  MAX_DOCUMENTS,
  type EmbedJob,
  type EmbedJobStats,
  type EmbedJobStatus,
  type SubmitEmbedRequest,
} from "./schemas";

export const SURFACE = "embed-jobs";
/** Sized for a hosted embeddings API; the dashboard can change nothing of it later, so generous retries. */
const DEFAULTS = { concurrency: 16, maxRetries: 3, retryBackoffMs: 1000 } as const;

const noSuchJob = (id: string) => new AppError("not_found", `Job ${id} not found (it may have expired)`, [{ path: "job_id", message: "no such job" }]);

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function statusOf(b: BatchRead): EmbedJobStatus {
  if (b.status === "paused") return b.startedAt ? "running" : "pending";
  return b.status;
}

const STOPS: Record<string, string> = {
  error_policy: "a document failed and the job stops at the first failure",
  error_threshold: "too many documents failed",
  budget_exhausted: "the cost limit was reached",
};

function toJob(b: BatchRead, now = Date.now()): EmbedJob {
  const processed = b.succeeded + b.failed;
  const ttl = b.ttlSeconds;
  return {
    job_id: b.id,
    job_type: "embed",
    status: statusOf(b),
    created_at: b.createdAt.toISOString(),
    started_at: b.startedAt?.toISOString() ?? null,
    completed_at: b.completedAt?.toISOString() ?? null,
    expires_at: b.completedAt && ttl !== null ? new Date(b.completedAt.getTime() + ttl * 1000).toISOString() : null,
    progress: {
      total_items: b.total,
      completed_items: b.succeeded,
      failed_items: b.failed,
      percent: b.total > 0 ? round((processed / b.total) * 100, 2) : 0,
    },
    duration_seconds: b.startedAt ? round(Math.max(0, (b.completedAt?.getTime() ?? now) - b.startedAt.getTime()) / 1000, 3) : null,
    metadata: (b.metadata as Record<string, unknown> | null) ?? {},
    errors: b.status === "failed" ? [`the job stopped: ${STOPS[b.stopReason ?? ""] ?? b.stopReason ?? "failed"}`] : [],
  };
}

async function findJob(id: string): Promise<BatchRead> {
  const row = await findEmbedJob(getPool(), SURFACE, id);
  if (!row) throw noSuchJob(id);
  return toBatch(row);
}

/** POST /api/batch/embed */
export async function submitEmbedJob(req: SubmitEmbedRequest) {
  const n = req.documents.length;
  if (n > MAX_DOCUMENTS) {
    const message = `Maximum ${MAX_DOCUMENTS.toLocaleString("en-US")} documents per batch. Got ${n.toLocaleString("en-US")}.`;
    throw new AppError("bad_request", message, [{ path: "documents", message: `at most ${MAX_DOCUMENTS} documents; split them into several jobs` }]);
  }
  const batch = await createBatch(
    {
      flow: "embed",
      name: fitBatchName(`embed ${req.model}: ${n} document${n === 1 ? "" : "s"}`),
      // no base_url: the model's route is the upstream; each record is the document's text
      parameters: { model: req.model, input: "{{record}}" },
      source: { kind: "records", records: req.documents, recordIdField: "id" },
      shuffle: false,
      concurrency: DEFAULTS.concurrency,
      max_retries: DEFAULTS.maxRetries,
      retry_backoff_ms: DEFAULTS.retryBackoffMs,
      metadata: { ...(req.metadata ?? {}), model: req.model },
      ttl_seconds: EMBED_JOB_TTL_SECONDS,
    },
    {
      beforeCommit: async (client, created) => {
        await insertAdapterJob(client, { batchId: created.id, surface: SURFACE, jobType: "embed", createdAt: created.createdAt });
      },
    },
  );
  return {
    job_id: batch.id,
    status: statusOf(batch),
    total_items: batch.total,
    message: `Batch embedding job submitted with ${n} documents`,
  };
}

/** GET /api/batch/jobs/{id} */
export async function getEmbedJob(id: string): Promise<EmbedJob> {
  return toJob(await findJob(id));
}

/** GET /api/batch/jobs: newest first, expired ones left out. */
export async function listEmbedJobs(limit: number): Promise<{ jobs: EmbedJob[]; total: number }> {
  const { rows, total } = await listEmbedJobRows(getPool(), SURFACE, limit);
  const now = Date.now();
  return { jobs: rows.map((r) => toJob(toBatch(r), now)), total };
}

/** DELETE /api/batch/jobs/{id}: only a pending or running job; a finished one is a 404, as clients of this API expect. */
export async function cancelEmbedJob(id: string) {
  const job = await getEmbedJob(id);
  const finished = () => new AppError("not_found", `Job ${id} is already ${job.status}: only pending or running jobs can be cancelled`, [{ path: "job_id", message: `job is ${job.status}` }]);
  if (job.status !== "pending" && job.status !== "running") throw finished();
  try {
    await cancelBatch(id);
  } catch (err) {
    // it finished meanwhile
    if (err instanceof AppError && err.code === "conflict") {
      job.status = (await getEmbedJob(id)).status;
      throw finished();
    }
    throw err;
  }
  return { job_id: id, cancelled: true as const, message: "Job cancelled successfully" };
}

/**
 * GET /api/batch/results/{id}: one JSON object, streamed — the results in document order as they are
 * read (10,000 embeddings can be tens of megabytes), then the errors and the counts of what was read.
 */
export async function embedResults(id: string): Promise<ReadableStream<Uint8Array>> {
  const batch = await findJob(id); // 404 before the stream starts
  const rows = streamResults(batch.id);
  const encoder = new TextEncoder();
  const errors: { index: number; code: string; message: string }[] = [];
  let completed = 0;
  let started = false;
  let first = true;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(`{"job_id":${JSON.stringify(batch.id)},"status":${JSON.stringify(statusOf(batch))},"results":[`));
          return;
        }
        let text = "";
        for (let i = 0; i < 200; i++) {
          const next = await rows.next();
          if (next.done) {
            const tail = { errors, total_items: batch.total, completed_items: completed, failed_items: errors.length };
            controller.enqueue(encoder.encode(`${text}],${JSON.stringify(tail).slice(1)}`));
            controller.close();
            return;
          }
          const r = next.value;
          let entry: { index: number; embedding: unknown } | null = null;
          if (r.status === "succeeded") {
            completed++;
            entry = { index: r.position, embedding: (r.result as { embedding?: unknown } | null)?.embedding ?? null };
          } else if (r.status === "failed") {
            errors.push({ index: r.position, code: r.error?.code ?? "failed", message: r.error?.message ?? "failed" });
          }
          text += `${first ? "" : ","}${JSON.stringify(entry)}`;
          first = false;
        }
        controller.enqueue(encoder.encode(text));
      },
      async cancel() {
        await rows.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** `batch_jobs` in GET /api/stats: all-time counts (a deleted job's final status is kept) and what is under way. */
export async function embedJobStats(): Promise<EmbedJobStats> {
  return embedJobCounts(getPool(), SURFACE);
}
