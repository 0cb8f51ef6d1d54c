import type { BatchProgress } from "@/lib/client/types";
import { formatCount } from "@/lib/client/format";
import { formatShare, headline, type OutcomeView } from "@/lib/client/outcome";

const SEGMENTS = ["succeeded", "failed", "cancelled", "skipped", "running", "waiting_input", "waiting_provider"] as const;

/** What a segment's records are, as its label says: cancelled and skipped ones never ran. */
const LABELS: Record<(typeof SEGMENTS)[number], string> = {
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled (not run)",
  skipped: "skipped (not run)",
  running: "running",
  waiting_input: "waiting for input",
  waiting_provider: "at the provider",
};

/**
 * One bar stacked by job status; pending is the empty track. The bar is full only when every record
 * reached a final state; its headline is the share processed once a batch was cancelled or stopped,
 * so a cancelled batch never reads 100%.
 */
export function ProgressBar({ batch, showCounts = true }: { batch: OutcomeView & { progress: BatchProgress }; showCounts?: boolean }) {
  const progress = batch.progress;
  const total = Math.max(progress.total, 1);
  const head = headline(batch);
  const counts = SEGMENTS.filter((s) => progress[s] > 0).map((s) => `${formatCount(progress[s])} ${LABELS[s]}`);
  return (
    <div className="progress-cell">
      <div
        className="progress"
        role="progressbar"
        aria-label="Progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.floor(head.percent)}
        aria-valuetext={`${formatShare(head.percent)}: ${head.text} (${counts.join(", ") || "nothing finished yet"})`}
        title={counts.join(" · ")}
      >
        {SEGMENTS.map((s) =>
          progress[s] > 0 ? <span key={s} className={`bar-${s}`} style={{ width: `${(progress[s] / total) * 100}%` }} /> : null,
        )}
      </div>
      {showCounts ? (
        <div className="progress-legend">
          <span className="progress-pct">{formatShare(head.percent)}</span>
          <span className="muted">{head.short}</span>
          {progress.failed > 0 ? <span className="status-failed">{formatCount(progress.failed)} failed</span> : null}
          {progress.cancelled > 0 ? <span className="status-cancelled">{formatCount(progress.cancelled)} cancelled</span> : null}
          {progress.skipped > 0 ? <span className="status-skipped">{formatCount(progress.skipped)} skipped</span> : null}
          {progress.waiting_input > 0 ? (
            <span className="status-waiting_input">{formatCount(progress.waiting_input)} waiting</span>
          ) : null}
          {progress.waiting_provider > 0 ? (
            <span className="status-waiting_provider">{formatCount(progress.waiting_provider)} at the provider</span>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
