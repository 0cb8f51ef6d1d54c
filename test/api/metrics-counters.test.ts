// GET /api/metrics: the counters (jobs finished by flow and status, attempts, interruptions, cost) and
// the job duration histogram, read from the text exposition after batches whose numbers are known.
// They only go up: a manual retry and a deleted batch do not lower them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch, retryBatch, type CreateBatchInput } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { claimJobs } from "@/lib/engine/claim";
import { expireLeases, sweepRetention } from "@/lib/engine/maintenance";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, type ApiRoute } from "../helpers/routes";
import { registerTestFlows } from "../engine/fixtures/flows";
import { createTestTables, waitFor } from "../engine/helpers";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();
registerTestFlows();

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

/** The text exposition format (0.0.4): `# TYPE name kind` lines and `name{l="v",...} value` samples. */
function parse(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

const value = (e: Exposition, name: string, labels: Record<string, string>) => {
  const found = e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
};

let metricsRoute: ApiRoute;
async function scrape(): Promise<Exposition> {
  const res = await callRoute(metricsRoute, "GET");
  expect(res.status).toBe(200);
  return parse(await res.text());
}

function make(flow: string, records: object[], extra: Partial<CreateBatchInput> = {}) {
  return createBatch({ flow, source: { kind: "records", records, recordIdField: "id" }, shuffle: false, retry_backoff_ms: 1, ...extra });
}
const ended = (id: string) =>
  waitFor(`batch ${id} to end`, async () => {
    const b = await getBatch(id);
    return ["completed", "failed", "cancelled"].includes(b.status) && b;
  });

let worker: WorkerHandle | null = null;
beforeAll(async () => {
  await createTestTables();
  metricsRoute = (await loadApiRoutes()).find((r) => r.pattern === "/api/metrics")!;
});
afterAll(async () => {
  await worker?.stop(500);
});

describe("GET /api/metrics counters", () => {
  it("count finished jobs, attempts, interruptions, cost and durations per flow, and never go down", async () => {
    // two runs lost to a crash: a worker that claimed them and stopped renewing its lease
    const crashed = await make("t-echo", [{ id: "c0" }, { id: "c1" }]);
    await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ('wrk_gone', 'h', 1, 'standalone', now() - interval '1 minute')`);
    expect(await claimJobs("wrk_gone", 2, 1)).toHaveLength(2);
    await waitFor("the lease to lapse", async () => (await expireLeases()) === 2);

    worker = await startWorker({ mode: "in-process", concurrency: 4, leaseMs: 1000, pollMs: 50, maintenanceMs: 100, log: () => {} });
    await ended(crashed.id);
    // t-fail: 2 records always fail (max_retries 1: two attempts each), 3 succeed, each after 30 ms
    const failing = await make("t-fail", [{ id: "f0", fail: true }, { id: "f1", fail: true }, { id: "s0" }, { id: "s1" }, { id: "s2" }], {
      max_retries: 1,
      parameters: { fail_times: 0, delay_ms: 30 },
    });
    const costly = await make("t-cost", [{ id: "k0" }, { id: "k1" }, { id: "k2" }], { parameters: { cost: 0.25 } });
    await ended(failing.id);
    await ended(costly.id);

    let e = await scrape();
    for (const name of ["batchboard_jobs_finished_total", "batchboard_job_attempts_total", "batchboard_job_interruptions_total", "batchboard_cost_total"]) {
      expect(e.types.get(name)).toBe("counter");
    }
    expect(e.types.get("batchboard_job_duration_seconds")).toBe("histogram");
    expect(e.types.get("batchboard_jobs")).toBe("gauge");

    expect(value(e, "batchboard_jobs_finished_total", { flow: "t-echo", status: "succeeded" })).toBe(2);
    expect(value(e, "batchboard_job_attempts_total", { flow: "t-echo" })).toBe(2);
    expect(value(e, "batchboard_job_interruptions_total", { flow: "t-echo" })).toBe(2);
    expect(value(e, "batchboard_jobs_finished_total", { flow: "t-fail", status: "succeeded" })).toBe(3);
    expect(value(e, "batchboard_jobs_finished_total", { flow: "t-fail", status: "failed" })).toBe(2);
    expect(value(e, "batchboard_job_attempts_total", { flow: "t-fail" })).toBe(7);
    expect(value(e, "batchboard_job_interruptions_total", { flow: "t-fail" })).toBe(0);
    expect(value(e, "batchboard_cost_total", { flow: "t-cost" })).toBeCloseTo(0.75, 9);
    expect(value(e, "batchboard_cost_total", { flow: "t-fail" })).toBe(0);

    // the histogram: cumulative buckets ending at +Inf = _count = the jobs finished; every t-fail
    // job took at least 30 ms, so none is at or under 20 ms
    const buckets = e.samples.filter((s) => s.name === "batchboard_job_duration_seconds_bucket" && s.labels.flow === "t-fail");
    expect(buckets.at(-1)!.labels.le).toBe("+Inf");
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
    expect(buckets.at(-1)!.value).toBe(5);
    expect(value(e, "batchboard_job_duration_seconds_count", { flow: "t-fail" })).toBe(5);
    expect(value(e, "batchboard_job_duration_seconds_bucket", { flow: "t-fail", le: "0.02" })).toBe(0);
    const sum = value(e, "batchboard_job_duration_seconds_sum", { flow: "t-fail" });
    expect(sum).toBeGreaterThanOrEqual(5 * 0.03);
    expect(sum).toBeLessThan(60);

    // a manual retry: the two failed records run twice more each and fail again; nothing goes down
    await retryBatch(failing.id);
    await ended(failing.id);
    e = await scrape();
    expect(value(e, "batchboard_jobs_finished_total", { flow: "t-fail", status: "failed" })).toBe(4);
    expect(value(e, "batchboard_jobs_finished_total", { flow: "t-fail", status: "succeeded" })).toBe(3);
    expect(value(e, "batchboard_job_attempts_total", { flow: "t-fail" })).toBe(11);
    expect(value(e, "batchboard_job_duration_seconds_count", { flow: "t-fail" })).toBe(7);

    // the retention sweep deletes every batch: the counters stay where they were
    const before = e.samples.filter((s) => s.name.endsWith("_total") || s.name.startsWith("batchboard_job_duration_seconds"));
    await getPool().query(`UPDATE batches SET completed_at = now() - interval '3 days'`);
    expect(await sweepRetention(1)).toBe(3);
    expect((await getPool().query(`SELECT count(*)::int AS n FROM batches`)).rows[0].n).toBe(0);
    e = await scrape();
    for (const s of before) expect([s.name, s.labels, value(e, s.name, s.labels)]).toEqual([s.name, s.labels, s.value]);
  });
});
