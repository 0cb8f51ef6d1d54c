// GET /api/metrics in the Prometheus text exposition format (version 0.0.4).
import "server-only";
import type { Stats, WorkerInfo } from "@/lib/engine/types";

function family(name: string, type: "gauge" | "counter", help: string, samples: [Record<string, string>, number][]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
    lines.push(`${name}${l.length ? `{${l.join(",")}}` : ""} ${Number.isFinite(value) ? value : 0}`);
  }
  return lines.join("\n");
}

export function prometheusText(stats: Stats, workers: WorkerInfo[]): string {
  const { active, ...byStatus } = stats.batches;
  const live = workers.filter((w) => w.alive);
  return (
    [
      family("batchboard_jobs", "gauge", "Jobs by status.", Object.entries(stats.jobs).map(([status, n]) => [{ status }, n])),
      family("batchboard_batches", "gauge", "Batches by status.", Object.entries(byStatus).map(([status, n]) => [{ status }, n as number])),
      family("batchboard_batches_active", "gauge", "Batches pending, running or paused.", [[{}, active]]),
      family("batchboard_queue_depth", "gauge", "Jobs ready to run (pending in running batches).", [[{}, stats.queueDepth]]),
      family("batchboard_workers_live", "gauge", "Workers with a recent heartbeat.", [[{}, stats.workers.live]]),
      family("batchboard_worker_running_jobs", "gauge", "Jobs running per live worker.", live.map((w) => [{ worker: w.id, host: w.host }, w.running])),
      family("batchboard_prompts_open", "gauge", "Prompts waiting for an answer.", [[{}, stats.openPrompts]]),
      family("batchboard_throughput_jobs_per_second", "gauge", "Finished jobs per second over a window.", [
        [{ window: "1m" }, stats.throughput.last1m],
        [{ window: "5m" }, stats.throughput.last5m],
        [{ window: "60m" }, stats.throughput.last60m],
      ]),
    ].join("\n") + "\n"
  );
}
