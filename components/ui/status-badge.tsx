import { formatStatus } from "@/lib/client/format";
import { outcomeBadge, outcomeLabel, outcomeTone, type OutcomeView } from "@/lib/client/outcome";

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{formatStatus(status)}</span>;
}

/**
 * A job's status; a running job not started yet is a worker's reservation (it starts in one of the
 * batch's slots as soon as one frees), shown as such.
 */
export function JobStatusBadge({ job }: { job: { status: string; started_at: string | null } }) {
  if (job.status === "running" && !job.started_at) {
    return (
      <span className="badge status-reserved" title="claimed by a worker: starts in one of the batch's slots as soon as one frees">
        reserved
      </span>
    );
  }
  return <StatusBadge status={job.status} />;
}

/**
 * A batch's status as it ended: "completed" is green only when every record succeeded; with
 * failures it says how many, and a cancel or a stop says where.
 */
export function BatchStatusBadge({ batch }: { batch: OutcomeView }) {
  return (
    <span className={`badge status-${outcomeTone(batch)}`} title={outcomeLabel(batch)}>
      {outcomeBadge(batch)}
    </span>
  );
}
