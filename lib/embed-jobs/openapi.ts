// The /api/batch routes in the OpenAPI document (/api/openapi.json), from the schemas they validate with.
import type { Operation } from "@/lib/api/openapi";
import * as S from "./schemas";

export const EMBED_JOB_OPERATIONS: Operation[] = [
  { method: "post", path: "/api/batch/embed", summary: `Submit an embedding job: one embed batch over the documents, in order (more than ${S.MAX_DOCUMENTS} documents: 400)`,
    scope: "write", body: { schema: S.submitEmbedSchema }, ok: { status: 200, description: "the job", schema: S.SubmittedJobSchema } },
  { method: "get", path: "/api/batch/jobs", summary: "Embedding jobs not yet expired, newest first", scope: "read", query: S.listJobsQuery,
    ok: { status: 200, description: "the jobs", schema: S.EmbedJobListSchema } },
  { method: "get", path: "/api/batch/jobs/{id}", summary: "One embedding job: status, progress, timing, metadata (404 once expired)", scope: "read",
    params: S.jobIdParams, ok: { status: 200, description: "the job", schema: S.EmbedJobSchema } },
  { method: "delete", path: "/api/batch/jobs/{id}", summary: "Cancel a pending or running embedding job (404 once it has finished)", scope: "write",
    params: S.jobIdParams, ok: { status: 200, description: "cancelled", schema: S.CancelledJobSchema } },
  { method: "get", path: "/api/batch/results/{id}", summary: "An embedding job's embeddings in document order, its errors and counts", scope: "read",
    params: S.jobIdParams, ok: { status: 200, description: "the results", schema: S.EmbedResultsSchema } },
];
