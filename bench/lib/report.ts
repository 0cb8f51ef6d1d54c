// The table on stdout, bench/results/latest.md and latest.json.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Row } from "./types";

export interface Target {
  name: string;
  goal: string;
  value: string;
  status: "MET" | "MISSED" | "NOT MEASURED";
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGb: number;
  os: string;
  node: string;
  loadAvgStart: number[];
  loadAvgEnd?: number[];
}

export interface Latency {
  endpoint: string;
  n: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface Report {
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  command: string;
  options: Record<string, unknown>;
  machine: Machine;
  postgres: { version: string; settings: Record<string, string> } | null;
  rows: Row[];
  latency: Latency[];
  memory: Record<string, unknown> | null;
  targets: Target[];
  notes: string[];
  profile?: Record<string, unknown>;
}

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n) ? "-" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** ours ÷ theirs, for the job-queue rows; our own rows against our headline figure. */
export function ratioText(row: Row, ours: number | null): string {
  if (!ours || !row.perSecond || row.unit !== "jobs/s") return "";
  return `${(ours / row.perSecond).toFixed(2)}x`;
}

export function renderTable(rows: Row[], ours: number | null): string {
  const head = ["section", "system", "setting", "jobs/rows", "seconds", "rate", "unit", "ours ÷ this", "peak RSS MB", "CPU s", "notes"];
  const body = rows.map((r) => [
    r.section,
    r.system,
    r.setting,
    fmt(r.jobs),
    fmt(r.seconds, 2),
    r.error ? "ERROR" : fmt(r.perSecond),
    r.unit,
    ratioText(r, ours),
    fmt(r.rssPeakMb, 0),
    fmt(r.cpuSeconds, 1),
    r.error ? r.error.split("\n")[0]!.slice(0, 160) : (r.notes ?? ""),
  ]);
  return markdownTable(head, body);
}

export function markdownTable(head: string[], body: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...body.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

export function renderLatency(latency: Latency[]): string {
  return markdownTable(
    ["endpoint", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"],
    latency.map((l) => [l.endpoint, fmt(l.n), fmt(l.errors), fmt(l.p50, 1), fmt(l.p95, 1), fmt(l.p99, 1), fmt(l.max, 1)]),
  );
}

export function renderTargets(targets: Target[]): string {
  return markdownTable(
    ["target", "goal", "measured", "status"],
    targets.map((t) => [t.name, t.goal, t.value, t.status]),
  );
}

export function renderMarkdown(r: Report, ours: number | null): string {
  const m = r.machine;
  const lines = [
    "# Batchboard benchmark: latest run",
    "",
    `Run \`${r.command}\` on ${r.startedAt} (${fmt(r.durationSeconds)} s). Every system ran in its own child process on **Node ${m.node}**, against one PostgreSQL server (a separate database each).`,
    "",
    "## Machine",
    "",
    `- CPU: ${m.cpu}, ${m.cores} cores; RAM ${fmt(m.ramGb, 1)} GB; ${m.os}`,
    `- Node: ${m.node} (the same binary for every system)`,
    `- Load average (1/5/15 min) at start: ${m.loadAvgStart.map((x) => x.toFixed(2)).join(" / ")}; at end: ${(m.loadAvgEnd ?? []).map((x) => x.toFixed(2)).join(" / ")}`,
    `- PostgreSQL: ${r.postgres?.version ?? "-"}`,
    `- PostgreSQL settings: ${Object.entries(r.postgres?.settings ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")}`,
    "",
    "## Throughput",
    "",
    "Job-queue rows are timed from the first job's start to the last job's completion; \"ours ÷ this\" is our single-worker, single-batch rate divided by that row's rate (above 1.00x: ours is faster). Peak RSS and CPU are the system's own process over the timed span.",
    "",
    renderTable(r.rows, ours),
    "",
    "## API latency under load",
    "",
    r.latency.length ? renderLatency(r.latency) : "not measured",
    "",
    "## Worker memory",
    "",
    r.memory ? "```json\n" + JSON.stringify({ ...r.memory, rssSamples: undefined }, null, 2) + "\n```\n\n(RSS samples every ~100 ms over the run are in latest.json.)" : "not measured",
    "",
    "## Targets (measured, never asserted)",
    "",
    renderTargets(r.targets),
    "",
    ...(r.notes.length ? ["## Notes", "", ...r.notes.map((n) => `- ${n}`), ""] : []),
    ...(r.profile ? ["## Profile", "", "```json\n" + JSON.stringify(r.profile, null, 2) + "\n```", ""] : []),
  ];
  return lines.join("\n");
}

export async function writeReport(dir: string, r: Report, ours: number | null) {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "latest.md"), renderMarkdown(r, ours));
  await writeFile(path.join(dir, "latest.json"), JSON.stringify(r, null, 2) + "\n");
}
