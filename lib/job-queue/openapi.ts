// The /batch routes in the OpenAPI document (/api/openapi.json), from the schemas they validate with.
import type { Operation } from "@/lib/api/openapi";
import * as S from "./schemas";

const job = { status: 200, description: "the job", schema: S.QueueJobSchema };

export const JOB_QUEUE_OPERATIONS: Operation[] = [
  { method: "post", path: "/batch/agent-tasks",
    summary: "Coding tasks, each in a directory of its own: a coder model changes files, a check command runs, a reviewer model approves (needs command execution enabled: the changes are written in the workspace and the check runs; 422 otherwise)",
    scope: "write", body: { schema: S.submitAgentTasksSchema }, ok: job },
  { method: "post", path: "/batch/validation", summary: "Run a check command per target path in the workspace (needs command execution enabled; 422 otherwise)",
    scope: "write", body: { schema: S.submitValidationSchema }, ok: job },
  { method: "post", path: "/batch/tests", summary: "Run a test command per module path in the workspace (needs command execution enabled; 422 otherwise)",
    scope: "write", body: { schema: S.submitTestsSchema }, ok: job },
  { method: "post", path: "/batch/mcp-operations", summary: "Read, list, write files and run commands in the workspace (write and command need command execution enabled)",
    scope: "write", body: { schema: S.submitOperationsSchema }, ok: job },
  { method: "get", path: "/batch/jobs", summary: "Jobs newest first, by status and job_type, with limit and offset", scope: "read", query: S.listJobsQuery,
    ok: { status: 200, description: "the jobs", schema: S.QueueJobListSchema } },
  { method: "get", path: "/batch/jobs/{id}", summary: "One job: status, progress, each item's result once finished", scope: "read", params: S.jobIdParams, ok: job },
  { method: "delete", path: "/batch/jobs/{id}", summary: "Cancel a queued or running job (409 once finished)", scope: "write", params: S.jobIdParams,
    ok: { status: 200, description: "cancelled", schema: S.CancelledQueueJobSchema } },
  { method: "get", path: "/batch/stats", summary: "The job queue's jobs by status", scope: "read", ok: { status: 200, description: "the counts", schema: S.QueueStatsSchema } },
];
