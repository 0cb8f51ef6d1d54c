// /batch: a job queue API over ordinary batches. Validation and test jobs are batches of the
// `command` flow run in the workspace (BATCHBOARD_WORKSPACE_DIR) with each item's path confined to
// it; file-operation jobs are batches of the `files` flow; agent tasks are batches of the `agent`
// flow, each task in a directory of its own under the workspace. Running commands or writing files needs
// command execution enabled (BATCHBOARD_ENABLE_COMMAND_FLOW=1): otherwise a 422 before anything is
// created. An adapter_jobs row marks each batch as this API's, with its job type.
import "server-only";
import { statSync } from "node:fs";
import { getConfig } from "@/lib/config";
import { getPool, getPrisma } from "@/lib/db/client";
import { findQueueJob, insertAdapterJob, listQueueJobRows, queueJobStats } from "@/lib/db/sql/adapter-jobs";
import { fitBatchName } from "@/lib/contract/batch-options";
import { cancelBatch, createBatch, streamResults } from "@/lib/engine";
import { toBatch, type BatchRead } from "@/lib/engine/map";
import { AppError, type ErrorDetail } from "@/lib/errors";
import { commandFlowEnabled } from "@/lib/flows/command";
import { CHANGING_OPERATIONS, type FileOperation } from "@/lib/flows/files";
import { PLACEHOLDER_PATTERN } from "@/lib/flows/template";
import type { QueueJob, QueueJobStatus, QueueJobType, SubmitAgentTasks } from "./schemas";
import { PathRefused, resolveInWorkspace, workspaceRoot } from "./workspace";

export const SURFACE = "job-queue";
/** Command output kept in a job's results (the whole output is in the batch's results export). */
const OUTPUT_TAIL = 4000;

function statusOf(b: BatchRead): QueueJobStatus {
  if (b.status === "pending") return "queued";
  if (b.status === "paused") return b.startedAt ? "running" : "queued";
  return b.status;
}

const unprocessable = (message: string, details: ErrorDetail[] = [{ message }]) => new AppError("validation_failed", message, details);

function requireWorkspace(): string {
  const root = workspaceRoot();
  if (!root) throw unprocessable("no workspace is configured: the operator sets BATCHBOARD_WORKSPACE_DIR to an existing directory");
  return root;
}

function requireCommands(what: string): void {
  if (!commandFlowEnabled()) {
    throw unprocessable(`${what} run commands, and command execution is disabled on this server: the operator enables it with BATCHBOARD_ENABLE_COMMAND_FLOW=1`);
  }
}

/** Every path confined to the workspace, or one 422 naming each refused path. */
function checkPaths(root: string, items: { path?: string }[], field: string): void {
  const details: ErrorDetail[] = [];
  items.forEach((item, i) => {
    if (item.path === undefined) return;
    try {
      resolveInWorkspace(root, item.path);
    } catch (err) {
      if (!(err instanceof PathRefused)) throw err;
      details.push({ path: `${field}.${i}.path`, message: err.message });
    }
  });
  if (details.length) throw unprocessable(`paths must stay inside the workspace: ${details.map((d) => d.message).join("; ")}`, details);
}

async function submit(jobType: QueueJobType, input: Parameters<typeof createBatch>[0]): Promise<QueueJob> {
  const batch = await createBatch(
    { ...input, shuffle: false, metadata: { ...input.metadata, job_type: jobType } },
    {
      beforeCommit: async (client, created) => {
        await insertAdapterJob(client, { batchId: created.id, surface: SURFACE, jobType, createdAt: created.createdAt });
      },
    },
  );
  return toJob(batch, jobType, null, null);
}

/** POST /batch/validation and /batch/tests: the command run per item in the workspace, its path as the last argument. */
export async function submitCommandJob(
  jobType: "batch_validation" | "batch_tests",
  items: { id: string; path: string }[],
  command: string,
  parallel: number,
): Promise<QueueJob> {
  const root = requireWorkspace();
  const field = jobType === "batch_validation" ? "targets" : "modules";
  requireCommands(jobType === "batch_validation" ? "validation jobs" : "test jobs");
  checkPaths(root, items, field);
  const line = new RegExp(PLACEHOLDER_PATTERN).test(command) ? command : `${command} {{record.path}}`;
  return submit(jobType, {
    flow: "command",
    name: fitBatchName(`${jobType === "batch_validation" ? "validation" : "tests"}: ${command} (${items.length} ${field})`),
    parameters: { command: line, stdin: "none", workspace_path: "." },
    source: { kind: "records", records: items, recordIdField: "id" },
    concurrency: parallel,
    metadata: { [`total_${field}`]: items.length, command },
  });
}

/** POST /batch/agent-tasks: a batch of the agent flow, one task per record, each in a directory of its own. */
export async function submitAgentJob(body: SubmitAgentTasks): Promise<QueueJob> {
  requireWorkspace();
  // the coder's changes are workspace writes, and a check runs a command: both are the operator's call
  requireCommands("agent tasks write the coder's changes in the workspace (and run the check command)");
  const template = getConfig().BATCHBOARD_AGENT_TEMPLATE_DIR;
  if (template && !statSync(template, { throwIfNoEntry: false })?.isDirectory()) {
    throw unprocessable("the agent tasks' template directory is missing: the operator sets BATCHBOARD_AGENT_TEMPLATE_DIR to an existing directory, or unsets it");
  }
  const { tasks, chunk_size, parallel, ...settings } = body;
  return submit("batch_agent_tasks", {
    flow: "agent",
    name: `agent tasks (${tasks.length})`,
    parameters: settings,
    source: { kind: "records", records: tasks, recordIdField: "id" },
    concurrency: parallel,
    // chunk_size is kept as submitted, as metadata: the agent flow runs one task per call (batch chunk_size 1)
    metadata: { total_tasks: tasks.length, chunk_size: chunk_size ?? null, coder_model: settings.coder_model, reviewer_model: settings.reviewer_model },
  });
}

/** POST /batch/mcp-operations: file operations in the workspace; writes and commands only where command execution is enabled. */
export async function submitOperationsJob(operations: FileOperation[], parallel: number): Promise<QueueJob> {
  const root = requireWorkspace();
  if (!commandFlowEnabled()) {
    const refused = operations.flatMap((op, i) =>
      CHANGING_OPERATIONS.includes(op.type) ? [{ path: `operations.${i}.type`, message: `${op.type} needs command execution enabled` }] : [],
    );
    if (refused.length) {
      throw unprocessable(
        `write and command operations are disabled on this server (the operator enables them with BATCHBOARD_ENABLE_COMMAND_FLOW=1); nothing was run`,
        refused,
      );
    }
  }
  checkPaths(root, operations as { path?: string }[], "operations");
  return submit("batch_mcp_operations", {
    flow: "files",
    name: `file operations (${operations.length})`,
    parameters: {},
    source: { kind: "records", records: operations.map((op, i) => ({ id: String(i + 1), ...op })), recordIdField: "id" },
    concurrency: parallel,
    metadata: { total_operations: operations.length },
  });
}

const tail = (v: unknown) => (typeof v === "string" && v.length > OUTPUT_TAIL ? `…${v.slice(-OUTPUT_TAIL)}` : v);
const ITEM_STATUS: Record<string, string> = { succeeded: "completed", failed: "failed", skipped: "skipped", cancelled: "cancelled", pending: "queued", running: "running" };

// an agent task's result bounds its own diff and check output (cutting a diff's head would garble it)
async function itemResults(batchId: string, jobType: QueueJobType): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const cut = jobType === "batch_agent_tasks" ? (v: unknown) => v : tail;
  for await (const r of streamResults(batchId)) {
    const output = r.result && typeof r.result === "object" ? Object.fromEntries(Object.entries(r.result).map(([k, v]) => [k, cut(v)])) : r.result;
    const item = r.record && typeof r.record === "object" ? (r.record as Record<string, unknown>) : { id: r.recordId };
    out.push({ ...item, status: ITEM_STATUS[r.status] ?? r.status, output: output ?? null, error: r.error?.message ?? null });
  }
  return out;
}

const epoch = (d: Date | null) => (d ? d.getTime() / 1000 : null);
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const STOPS: Record<string, string> = {
  error_policy: "an item failed and the job stops at the first failure",
  error_threshold: "too many items failed",
  budget_exhausted: "the cost limit was reached",
};

function toJob(b: BatchRead, jobType: QueueJobType, results: Record<string, unknown>[] | null, currentItem: string | null, now = Date.now()): QueueJob {
  const processed = b.succeeded + b.failed;
  const skipped = b.skipped + b.cancelled;
  const percentage = b.total > 0 ? round((processed / b.total) * 100, 1) : 0;
  const elapsed = b.startedAt ? Math.max(0, ((b.completedAt?.getTime() ?? now) - b.startedAt.getTime()) / 1000) : 0;
  const rate = elapsed > 0 ? processed / elapsed : 0;
  const remaining = b.total - processed - skipped;
  const status = statusOf(b);
  const finished = status === "completed" || status === "failed" || status === "cancelled";
  return {
    job_id: b.id,
    job_type: jobType,
    status,
    progress: percentage,
    result: finished
      ? { summary: { total: b.total, successful: b.succeeded, failed: b.failed, skipped }, ...(results ? { results } : {}), elapsed_seconds: round(elapsed, 3) }
      : null,
    error: b.status === "failed" ? `the job stopped: ${STOPS[b.stopReason ?? ""] ?? b.stopReason ?? "failed"}` : null,
    created_at: epoch(b.createdAt)!,
    started_at: epoch(b.startedAt),
    completed_at: epoch(b.completedAt),
    metadata: {
      ...(b.metadata as Record<string, unknown> | null),
      progress: {
        total: b.total,
        processed,
        successful: b.succeeded,
        failed: b.failed,
        skipped,
        percentage,
        elapsed_seconds: round(elapsed, 3),
        items_per_second: round(rate, 3),
        estimated_remaining_seconds: finished ? 0 : rate > 0 ? round(remaining / rate, 1) : null,
        current_item: currentItem,
      },
    },
  };
}

async function findJob(id: string): Promise<{ batch: BatchRead; jobType: QueueJobType }> {
  const row = await findQueueJob<QueueJobType>(getPool(), SURFACE, id);
  if (!row) throw new AppError("not_found", `Job ${id} not found`, [{ path: "job_id", message: "no such job" }]);
  return { batch: toBatch(row), jobType: row.job_type };
}

/** GET /batch/jobs/{id}: with every item's result once finished, the item running now while running. */
export async function getQueueJob(id: string): Promise<QueueJob> {
  const { batch, jobType } = await findJob(id);
  const status = statusOf(batch);
  let current: string | null = null;
  if (status === "running") {
    // the record the running job started last
    const latest = await getPrisma().job.findFirst({
      where: { batchId: id, status: "running", startedAt: { not: null } },
      orderBy: { startedAt: "desc" },
      select: { recordId: true },
    });
    current = latest?.recordId ?? null;
  }
  const finished = status === "completed" || status === "failed" || status === "cancelled";
  return toJob(batch, jobType, finished ? await itemResults(id, jobType) : null, current);
}

/** GET /batch/jobs: newest first, by status word and job type, with limit and offset. */
export async function listQueueJobs(q: { status?: QueueJobStatus; job_type?: string; limit: number; offset: number }) {
  const { rows, total } = await listQueueJobRows<QueueJobType>(getPool(), SURFACE, { status: q.status ?? null, jobType: q.job_type ?? null, limit: q.limit, offset: q.offset });
  const now = Date.now();
  return { jobs: rows.map((r) => toJob(toBatch(r), r.job_type, null, null, now)), total };
}

/** DELETE /batch/jobs/{id}: a queued or running job is cancelled; a finished one is a 409. */
export async function cancelQueueJob(id: string) {
  const { batch } = await findJob(id);
  const refuse = (status: string) =>
    new AppError("conflict", `Job cannot be cancelled: it is already ${status}`, [{ path: "job_id", message: `job is ${status}` }]);
  const status = statusOf(batch);
  if (status !== "queued" && status !== "running") throw refuse(status);
  try {
    await cancelBatch(id);
  } catch (err) {
    if (err instanceof AppError && err.code === "conflict") throw refuse(statusOf((await findJob(id)).batch));
    throw err;
  }
  return { status: "cancelled" as const, job_id: id };
}

/** GET /batch/stats */
export async function queueStats() {
  return { stats: await queueJobStats(getPool(), SURFACE) };
}
