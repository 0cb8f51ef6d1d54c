// GET /api/metrics in the Prometheus text exposition format (version 0.0.4).
import "server-only";
import { FINISHED_JOB_STATUSES } from "@/lib/contract/statuses";
import { DURATION_BOUNDS_MS } from "@/lib/engine/metrics";
import type { FlowCounters, Stats, WorkerInfo } from "@/lib/engine/types";

type Samples = [Record<string, string>, number][];

const sample = (name: string, labels: Record<string, string>, value: number) => {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return `${name}${l.length ? `{${l.join(",")}}` : ""} ${Number.isFinite(value) ? value : 0}`;
};

function family(name: string, type: "gauge" | "counter", help: string, samples: Samples): string {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, value]) => sample(name, labels, value))].join("\n");
}

/** A histogram family: cumulative _bucket samples (le in seconds, ending at +Inf), _sum and _count per flow. */
function durationHistogram(name: string, help: string, flows: FlowCounters[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const f of flows) {
    let cumulative = 0;
    for (let i = 0; i <= DURATION_BOUNDS_MS.length; i++) {
      cumulative += f.durationHist[i] ?? 0;
      const le = i < DURATION_BOUNDS_MS.length ? String(DURATION_BOUNDS_MS[i]! / 1000) : "+Inf";
      lines.push(sample(`${name}_bucket`, { flow: f.flow, le }, cumulative));
    }
    lines.push(sample(`${name}_sum`, { flow: f.flow }, f.durationSumMs / 1000));
    lines.push(sample(`${name}_count`, { flow: f.flow }, cumulative));
  }
  return lines.join("\n");
}

function counters(flows: FlowCounters[]): string[] {
  const statuses = FINISHED_JOB_STATUSES;
  return [
    family(
      "batchboard_jobs_finished_total",
      "counter",
      "Jobs that reached a final status, by flow and status (a record retried by hand counts again when it finishes again).",
      flows.flatMap((f) => statuses.map((status): Samples[number] => [{ flow: f.flow, status }, f.finished[status]])),
    ),
    family(
      "batchboard_job_attempts_total",
      "counter",
      "Attempts of the flow that ended (succeeded, failed, or failed and retried); runs handed back at a stop or lost to a crash are not attempts.",
      flows.map((f) => [{ flow: f.flow }, f.attempts]),
    ),
    family(
      "batchboard_job_interruptions_total",
      "counter",
      "Runs lost to a crash: their worker stopped renewing its lease before the run ended.",
      flows.map((f) => [{ flow: f.flow }, f.interruptions]),
    ),
    family(
      "batchboard_cost_total",
      "counter",
      "Cost the flow's jobs reported (ctx.reportCost), in the unit the flow reports it in (the llm, embed and openai flows: the currency of their prices).",
      flows.map((f) => [{ flow: f.flow }, f.cost]),
    ),
    durationHistogram("batchboard_job_duration_seconds", "Duration of the flow's jobs that finished (succeeded or failed), in seconds.", flows),
  ];
}

export function prometheusText(stats: Stats, workers: WorkerInfo[], flows: FlowCounters[] = []): string {
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
      ...counters(flows),
    ].join("\n") + "\n"
  );
}
