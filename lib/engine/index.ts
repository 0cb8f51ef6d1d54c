// The batch engine's public API: what lib/api, the worker and the dashboard's server
// code use. No HTTP, no React. Errors are AppError (lib/errors.ts).
export { createBatch, type CreateBatchInput } from "./create-batch";
export { listBatches } from "./list-batches";
export { deleteBatch } from "./delete-batch";
export { bulkJobs, type BulkOutcome } from "./bulk-jobs";
export { getBatch, cancelBatch, pauseBatch, resumeBatch, retryBatch, type BatchDetail } from "./batches";
export type { BatchRead } from "./map";
export { listJobs, getJob, retryJob, cancelJob, streamResults } from "./jobs";
export { getBatchMetrics } from "./metrics";
export { getBatchSummary } from "./summary";
export { listPrompts, getPrompt, answerPrompt } from "./prompts";
export { getFlowCounters, getStats, listWorkers } from "./stats";
export { subscribeEvents } from "./events";
export type * from "./types";
