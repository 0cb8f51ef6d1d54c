import type { BatchProgress } from "@/lib/client/types";
import { formatCount } from "@/lib/client/format";

const SEGMENTS = ["succeeded", "failed", "cancelled", "skipped", "running", "waiting_input"] as const;

/** One bar stacked by job status; pending is the empty track. */
export function ProgressBar({ progress, showCounts = true }: { progress: BatchProgress; showCounts?: boolean }) {
  const total = Math.max(progress.total, 1);
  const pct = Math.round(progress.percent ?? 0);
  const counts = SEGMENTS.filter((s) => progress[s] > 0).map((s) => `${formatCount(progress[s])} ${s.replace("_", " ")}`);
  return (
    <div className="progress-cell">
      <div
        className="progress"
        role="progressbar"
        aria-label="Progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct}% (${counts.join(", ") || "nothing finished yet"})`}
        title={counts.join(" · ")}
      >
        {SEGMENTS.map((s) =>
          progress[s] > 0 ? <span key={s} className={`bar-${s}`} style={{ width: `${(progress[s] / total) * 100}%` }} /> : null,
        )}
      </div>
      {showCounts ? (
        <div className="progress-legend">
          <span className="progress-pct">{pct}%</span>
          <span className="muted">
            {formatCount(progress.succeeded + progress.failed + progress.cancelled + progress.skipped)}/{formatCount(progress.total)}
          </span>
          {progress.failed > 0 ? <span className="status-failed">{formatCount(progress.failed)} failed</span> : null}
          {progress.waiting_input > 0 ? (
            <span className="status-waiting_input">{formatCount(progress.waiting_input)} waiting</span>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
