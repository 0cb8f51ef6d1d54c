"use client";
// react-query hooks over the typed client. Lists page by cursor (never loading a whole batch's
// jobs); polling is only a fallback for a failed event stream while something is active.
import { infiniteQueryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type BatchListInput, type CompareFilterInput, type CompareInput, type JobListInput, type SummaryInput } from "./api";
import { batchKeys, compareKeys, datasetKeys, flowKeys, isLiveJobList, jobKeys, promptKeys, statsKeys, workerKeys } from "./keys";
import { useEffect } from "react";
import { useGlobalStreamFailed } from "./sse";
import { isActiveBatch, type Batch, type BulkJobsBody, type Prompt } from "./types";

export function useBatchList(input: BatchListInput) {
  const streamFailed = useGlobalStreamFailed();
  return useInfiniteQuery({
    queryKey: batchKeys.list(input),
    queryFn: ({ pageParam }) => api.listBatches(input, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    refetchInterval: (q) =>
      streamFailed && q.state.data?.pages.some((p) => p.items.some((b) => isActiveBatch(b.status))) ? 5_000 : false,
  });
}

export function useBatch(id: string, opts: { streamFailed?: boolean; enabled?: boolean } = {}) {
  return useQuery({
    queryKey: batchKeys.detail(id),
    queryFn: () => api.getBatch(id),
    enabled: opts.enabled ?? true,
    retry: (count, err) => (err as { status?: number }).status !== 404 && count < 1,
    refetchInterval: (q) => (opts.streamFailed && isActiveBatch(q.state.data?.status) ? 2_000 : false),
  });
}

export function useMetrics(id: string, poll: boolean, enabled = true) {
  return useQuery({
    queryKey: batchKeys.metrics(id),
    queryFn: () => api.getMetrics(id),
    enabled,
    refetchInterval: poll ? 5_000 : false,
  });
}

export function useProviderBatches(id: string, poll: boolean) {
  return useQuery({
    queryKey: batchKeys.providerBatches(id),
    queryFn: () => api.getProviderBatches(id),
    refetchInterval: poll ? 10_000 : false,
  });
}

export function useSummary(id: string, input: SummaryInput, poll: boolean, enabled = true) {
  return useQuery({
    queryKey: batchKeys.summary(id, input),
    queryFn: () => api.getSummary(id, input),
    enabled,
    placeholderData: (prev) => prev,
    refetchInterval: poll ? 5_000 : false,
  });
}

/** The jobs table's list: the same options for the table and for the batch page's early prefetch. */
export function jobsQuery(batchId: string, input: JobListInput, poll = false) {
  return infiniteQueryOptions({
    queryKey: jobKeys.list(batchId, input),
    queryFn: ({ pageParam }) => api.listJobs(batchId, input, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    refetchInterval: (q) => (poll && isLiveJobList(q) ? 4_000 : false),
  });
}

/** The table's first list: all statuses, run order, pages of 100. */
export const JOBS_PAGE = 100;
export const firstJobsInput = (): JobListInput => ({ status: "", q: "", sort: "ordinal", limit: JOBS_PAGE });

export function useJobs(batchId: string, input: JobListInput, poll: boolean) {
  return useInfiniteQuery({ ...jobsQuery(batchId, input, poll), placeholderData: (prev) => prev });
}

/** Starts the jobs table's first page at once, alongside the batch itself rather than after it. */
export function usePrefetchFirstJobs(batchId: string) {
  const qc = useQueryClient();
  useEffect(() => {
    void qc.prefetchInfiniteQuery(jobsQuery(batchId, firstJobsInput()));
  }, [qc, batchId]);
}

export function useJob(batchId: string, recordId: string | null) {
  return useQuery({
    queryKey: jobKeys.detail(batchId, recordId ?? ""),
    queryFn: () => api.getJob(batchId, recordId!),
    enabled: !!recordId,
  });
}

function useSetBatch() {
  const qc = useQueryClient();
  return (batch: Batch) => {
    qc.setQueryData(batchKeys.detail(batch.id), batch);
    void qc.invalidateQueries({ queryKey: batchKeys.lists() });
    void qc.invalidateQueries({ queryKey: jobKeys.batch(batch.id) });
  };
}

export function useBatchAction(id: string, action: "cancel" | "pause" | "resume") {
  const setBatch = useSetBatch();
  return useMutation({
    mutationFn: () =>
      action === "cancel" ? api.cancelBatch(id) : action === "pause" ? api.pauseBatch(id) : api.resumeBatch(id),
    onSuccess: setBatch,
  });
}

export function useRetryBatch(id: string) {
  const setBatch = useSetBatch();
  return useMutation({
    mutationFn: (statuses: string[]) => api.retryBatch(id, statuses),
    onSuccess: (r) => setBatch(r.batch),
  });
}

/** Deletes a finished batch; every list and its page forget it. */
export function useDeleteBatch(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.deleteBatch(id),
    onSuccess: () => {
      qc.removeQueries({ queryKey: batchKeys.detail(id) });
      void qc.invalidateQueries({ queryKey: batchKeys.lists() });
    },
  });
}

/** Retries or cancels many jobs of a batch; its jobs and counters refetch. */
export function useBulkJobs(batchId: string) {
  const qc = useQueryClient();
  const setBatch = useSetBatch();
  return useMutation({
    mutationFn: (body: BulkJobsBody) => api.bulkJobs(batchId, body),
    onSuccess: (r) => {
      setBatch(r.batch);
      void qc.invalidateQueries({ queryKey: jobKeys.batch(batchId) });
    },
  });
}

export function useDeleteDataset(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.deleteDataset(id),
    onSuccess: () => {
      qc.removeQueries({ queryKey: datasetKeys.detail(id) });
      void qc.invalidateQueries({ queryKey: datasetKeys.list() });
    },
  });
}

export function useJobAction(batchId: string, recordId: string, action: "retry" | "cancel") {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => (action === "retry" ? api.retryJob(batchId, recordId) : api.cancelJob(batchId, recordId)),
    onSuccess: (job) => {
      qc.setQueryData(jobKeys.detail(batchId, recordId), job);
      void qc.invalidateQueries({ queryKey: jobKeys.batch(batchId) });
      void qc.invalidateQueries({ queryKey: batchKeys.detail(batchId) });
    },
  });
}

/** Open prompts, oldest first: of every batch, or of one when `batchId` is given. */
export function useOpenPrompts(poll: boolean, batchId = "") {
  return useInfiniteQuery({
    queryKey: promptKeys.open(batchId),
    queryFn: ({ pageParam }) => api.listPrompts({ status: "open", limit: 50, batch_id: batchId || undefined }, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    refetchInterval: poll ? 3_000 : false,
  });
}

/** One prompt (the Inbox asks what became of a card that left the open list); `null` fetches nothing. */
export function usePrompt(id: string | null) {
  return useQuery({ queryKey: promptKeys.detail(id ?? ""), queryFn: () => api.getPrompt(id!), enabled: !!id, retry: false });
}

/** The Inbox badge: kept current by the global stream's `prompts` events. */
export function useOpenPromptCount() {
  const streamFailed = useGlobalStreamFailed();
  return useQuery({
    queryKey: promptKeys.openCount(),
    queryFn: async () => (await api.listPrompts({ status: "open", limit: 1 })).total,
    refetchInterval: streamFailed ? 10_000 : false,
    retry: false,
  });
}

/** Answers a prompt; its callbacks run for every answer sent (several may be in flight at once). */
export function useAnswerPrompt() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, answer }: { id: string; answer: unknown }) => api.answerPrompt(id, answer),
    onSuccess: (p: Prompt) => {
      // drop the answered prompt at once; the refetch confirms it
      qc.setQueriesData({ queryKey: promptKeys.open() }, (old: { pages: { items: Prompt[]; total: number }[] } | undefined) =>
        old
          ? { ...old, pages: old.pages.map((pg) => ({ ...pg, items: pg.items.filter((x) => x.id !== p.id), total: Math.max(0, pg.total - 1) })) }
          : old,
      );
      qc.setQueryData(promptKeys.openCount(), (n: number | undefined) => (typeof n === "number" ? Math.max(0, n - 1) : n));
      void qc.invalidateQueries({ queryKey: promptKeys.all });
      void qc.invalidateQueries({ queryKey: batchKeys.detail(p.batch_id) });
    },
  });
}

export function useFlows() {
  return useQuery({ queryKey: flowKeys.all, queryFn: api.listFlows, staleTime: 60_000 });
}

export function useDatasets() {
  return useQuery({ queryKey: datasetKeys.list(), queryFn: () => api.listDatasets() });
}

export function useDataset(id: string) {
  return useQuery({
    queryKey: datasetKeys.detail(id),
    queryFn: () => api.getDataset(id),
    retry: (count, err) => (err as { status?: number }).status !== 404 && count < 1,
  });
}

export function useDatasetRecords(id: string) {
  return useInfiniteQuery({
    queryKey: datasetKeys.records(id),
    queryFn: ({ pageParam }) => api.listDatasetRecords(id, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
}

export function useStats(poll: boolean) {
  return useQuery({ queryKey: statsKeys.all, queryFn: api.getStats, refetchInterval: poll ? 5_000 : false });
}

export function useWorkers(poll: boolean) {
  return useQuery({ queryKey: workerKeys.all, queryFn: api.listWorkers, refetchInterval: poll ? 5_000 : false });
}

/** Two batches compared; nothing is fetched until both are chosen. */
export function useCompare(input: CompareInput | null) {
  return useQuery({
    queryKey: compareKeys.summary(input ?? { a: "", b: "", field: "" }),
    queryFn: () => api.compare(input!),
    enabled: !!input,
    retry: false,
  });
}

export function useComparedRecords(input: (CompareInput & CompareFilterInput) | null) {
  return useInfiniteQuery({
    queryKey: compareKeys.records(input ?? { a: "", b: "", field: "" }),
    queryFn: ({ pageParam }) => api.compareRecords(input!, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    enabled: !!input,
    placeholderData: (prev) => prev,
    retry: false,
  });
}
