// The targets, checked against what this run measured: printed as MET / MISSED, never asserted.
import type { Report, Target } from "./report";
import type { Row } from "./types";

export const OURS_SETTING = "1 worker, 1 batch";

export function oursRate(rows: Row[]): number | null {
  return rows.find((r) => r.system === "batchboard" && r.setting.startsWith(OURS_SETTING) && !r.error)?.perSecond ?? null;
}

const rate = (rows: Row[], system: string, setting: string) =>
  rows.find((r) => r.system === system && r.setting === setting && !r.error)?.perSecond ?? null;

function check(name: string, goal: string, value: number | null, ok: (v: number) => boolean, show: (v: number) => string): Target {
  if (value === null || !Number.isFinite(value)) return { name, goal, value: "-", status: "NOT MEASURED" };
  return { name, goal, value: show(value), status: ok(value) ? "MET" : "MISSED" };
}

export function evaluateTargets(r: Report): Target[] {
  const ours = oursRate(r.rows);
  const gw = rate(r.rows, "graphile-worker", "fastest");
  const pb = rate(r.rows, "pg-boss", "fastest");
  const ingestInline = r.rows.find((x) => x.section === "ingest" && x.setting.startsWith("inline") && !x.error)?.perSecond ?? null;
  const ingestDataset = r.rows.find((x) => x.section === "ingest" && x.setting.startsWith("dataset") && !x.error)?.perSecond ?? null;
  const lat = (match: (endpoint: string) => boolean) => r.latency.filter((l) => match(l.endpoint) && l.n > 0);
  const p95 = (match: (endpoint: string) => boolean) => (lat(match).length ? Math.max(...lat(match).map((l) => l.p95)) : null);
  const growth = typeof r.memory?.growthMb === "number" ? r.memory.growthMb : null;
  const x = (v: number) => `${v.toFixed(2)}x`;
  const perS = (v: number) => `${Math.round(v).toLocaleString("en-US")} rec/s`;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return [
    check("engine vs graphile-worker fastest", ">= 1.0x", ours && gw ? ours / gw : null, (v) => v >= 1.0, x),
    check("engine vs pg-boss fastest", ">= 1.5x", ours && pb ? ours / pb : null, (v) => v >= 1.5, x),
    check("ingest: inline batch via the API", ">= 50,000 rec/s", ingestInline, (v) => v >= 50_000, perS),
    check("ingest: dataset import", ">= 50,000 rec/s", ingestDataset, (v) => v >= 50_000, perS),
    check("GET /api/batches/{id} p95 under load", "<= 20 ms", p95((e) => e === "GET /api/batches/{id}"), (v) => v <= 20, ms),
    check("jobs page p95 under load (worst of first and deep)", "<= 50 ms", p95((e) => e.startsWith("GET /api/batches/{id}/jobs")), (v) => v <= 50, ms),
    check("worker RSS growth over the API-run jobs", "<= 64 MB", growth, (v) => v <= 64, (v) => `${v.toFixed(1)} MB`),
  ];
}
