// Query-key factories: one place names every cached query so invalidation can target a prefix
// (`batchKeys.all` drops every batch list and detail at once).
import type { BatchListInput, CompareFilterInput, CompareInput, JobListInput, SummaryInput } from "./api";

export const batchKeys = {
  all: ["batches"] as const,
  lists: () => [...batchKeys.all, "list"] as const,
  list: (input: BatchListInput) => [...batchKeys.lists(), input] as const,
  details: () => [...batchKeys.all, "detail"] as const,
  detail: (id: string) => [...batchKeys.details(), id] as const,
  metrics: (id: string) => [...batchKeys.all, "metrics", id] as const,
  providerBatches: (id: string) => [...batchKeys.all, "provider-batches", id] as const,
  summaries: (id: string) => [...batchKeys.all, "summary", id] as const,
  summary: (id: string, input: SummaryInput) => [...batchKeys.summaries(id), input] as const,
};

export const jobKeys = {
  all: ["jobs"] as const,
  batch: (batchId: string) => [...jobKeys.all, batchId] as const,
  list: (batchId: string, input: JobListInput) => [...jobKeys.batch(batchId), "list", input] as const,
  detail: (batchId: string, recordId: string) => [...jobKeys.batch(batchId), "detail", recordId] as const,
};

export const promptKeys = {
  all: ["prompts"] as const,
  /** every open list; `open(batchId)` the one of one batch ("" for all batches) */
  open: (batchId?: string) => (batchId === undefined ? ([...promptKeys.all, "open"] as const) : ([...promptKeys.all, "open", batchId] as const)),
  openCount: () => [...promptKeys.all, "open-count"] as const,
  detail: (id: string) => [...promptKeys.all, "detail", id] as const,
};

export const datasetKeys = {
  all: ["datasets"] as const,
  list: () => [...datasetKeys.all, "list"] as const,
  detail: (id: string) => [...datasetKeys.all, "detail", id] as const,
  records: (id: string) => [...datasetKeys.all, "records", id] as const,
};

export const compareKeys = {
  all: ["compare"] as const,
  summary: (input: CompareInput) => [...compareKeys.all, "summary", input] as const,
  records: (input: CompareInput & CompareFilterInput) => [...compareKeys.all, "records", input] as const,
};

export const flowKeys = { all: ["flows"] as const };
export const statsKeys = { all: ["stats"] as const };
export const workerKeys = { all: ["workers"] as const };

/**
 * A jobs list refreshed live (polling, or the batch's event stream) has at most this many pages
 * loaded: refreshing an infinite list refetches every page it holds, so one scrolled thousands of
 * rows deep stays as loaded until its filter changes or the batch ends, instead of refetching
 * dozens of pages every few seconds.
 */
export const LIVE_JOB_PAGES = 5;
export const isLiveJobList = (q: { state: { data?: unknown } }) =>
  ((q.state.data as { pages?: unknown[] } | undefined)?.pages?.length ?? 0) <= LIVE_JOB_PAGES;
