// Ingest, API latency under load, SSE event delay and worker memory, against the real app:
// scripts/serve.ts start (a production build in .next-bench) on a bench database, with its in-process
// worker off so that only our standalone worker child runs jobs.
import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "@/lib/db/embedded";
import type { BenchOptions } from "../lib/args";
import { benchNode, pollUntil, ROOT, round, sleep } from "../lib/child";
import type { BenchServer } from "../lib/pg";
import { medianRow } from "../lib/median";
import type { Latency, Report } from "../lib/report";
import { failedRow, type Row } from "../lib/types";
import { shippedWorkerFlags, startWorkers } from "../engine/section";

export function apiAvailable() {
  return existsSync(path.join(ROOT, "app", "api", "batches", "route.ts"));
}

type Log = (l: string) => void;

export async function startApp(url: string, port: number, log: Log): Promise<ChildProcess> {
  log(`starting the app on port ${port} (builds .next-bench first when stale; minutes on a busy machine)`);
  const child = spawn(benchNode(), ["--import", "tsx", "scripts/serve.ts", "start"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: url,
      NEXT_DIST_DIR: ".next-bench",
      BATCHBOARD_WORKER: "0",
      BATCHBOARD_LOAD_DEMO: "0",
      BATCHBOARD_AUTH: "off",
      BATCHBOARD_DATA_DIR: path.join(os.tmpdir(), "batchboard-bench-unused"),
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so stopping it also stops next start
  });
  const tail: string[] = [];
  const keep = (d: Buffer) => {
    for (const l of d.toString().split("\n")) if (l.trim()) tail.push(l);
    while (tail.length > 30) tail.shift();
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  await pollUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`the app exited (code ${child.exitCode}):\n${tail.join("\n")}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/api/health`)).ok;
      } catch {
        return false;
      }
    },
    500,
    15 * 60_000,
    "the app's /api/health",
  );
  return child;
}

export async function stopApp(child: ChildProcess) {
  if (child.exitCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid, "SIGTERM");
  const t = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 20_000);
  await exited;
  clearTimeout(t);
}

async function api<T>(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: T; ms: number }> {
  const payload = body === undefined ? undefined : JSON.stringify(body); // the client's work: not timed
  const t0 = performance.now();
  const res = await fetch(base + p, {
    method,
    headers: payload === undefined ? {} : { "content-type": "application/json" },
    body: payload,
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let json: T;
  try {
    json = JSON.parse(text) as T;
  } catch {
    json = text as T;
  }
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, json, ms };
}

const reviewText = (i: number) => `review ${i}: the product arrived on time and works as described, ${i % 5} stars`;

async function writeJsonl(file: string, rows: number) {
  const out = createWriteStream(file);
  let buf = "";
  for (let i = 0; i < rows; i++) {
    buf += JSON.stringify({ id: `d${i}`, text: reviewText(i), n: i }) + "\n";
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once("drain", () => r()));
      buf = "";
    }
  }
  out.end(buf);
  await new Promise<void>((r) => out.once("finish", () => r()));
}

/** Streams a file as the request body (fetch would buffer or need duplex streams). */
function upload(base: string, p: string, file: string, contentType: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + p, { method: "POST", headers: { "content-type": contentType } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    createReadStream(file).pipe(req);
  });
}

function percentiles(name: string, xs: number[], errors: number): Latency {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN);
  return { endpoint: name, n: s.length, errors, p50: round(q(50), 1), p95: round(q(95), 1), p99: round(q(99), 1), max: round(s[s.length - 1] ?? NaN, 1) };
}

interface SseMessage {
  at: number; // epoch ms
  finished: number;
}

/** Reads /api/batches/{id}/events, recording when each `batch` event arrived and how many jobs it counted finished. */
function followEvents(base: string, batchId: string) {
  const messages: SseMessage[] = [];
  const ac = new AbortController();
  const done = (async () => {
    const res = await fetch(`${base}/api/batches/${batchId}/events`, { signal: ac.signal, headers: { accept: "text/event-stream" } });
    if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const at = Date.now();
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "message";
        const data = frame
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (event !== "batch" || !data) continue;
        const b = JSON.parse(data) as { progress?: Record<string, number> };
        const p = b.progress ?? {};
        messages.push({ at, finished: (p.succeeded ?? 0) + (p.failed ?? 0) + (p.cancelled ?? 0) + (p.skipped ?? 0) });
      }
    }
  })().catch((err: unknown) => {
    if ((err as Error).name !== "AbortError") throw err;
  });
  return { messages, stop: async () => (ac.abort(), await done.catch(() => {})) };
}

/**
 * SSE delay per job: from the job's finished_at to the arrival of the first event counting it,
 * for every job that finished while the stream was open.
 */
async function sseDelays(url: string, batchId: string, messages: SseMessage[]): Promise<number[]> {
  if (messages.length < 2) return [];
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const last = messages[messages.length - 1]!.finished;
    const { rows } = await c.query<{ t: number }>(
      `SELECT (extract(epoch FROM finished_at) * 1000)::float8 AS t FROM jobs
       WHERE batch_id = $1 AND finished_at IS NOT NULL ORDER BY finished_at, id LIMIT $2`,
      [batchId, last],
    );
    const finishedAt = rows.map((r) => r.t);
    const from = messages[0]!.at;
    const delays: number[] = [];
    let j = 0;
    for (let k = 1; k <= finishedAt.length; k++) {
      const f = finishedAt[k - 1]!;
      while (j < messages.length && messages[j]!.finished < k) j++;
      if (j >= messages.length) break;
      if (f < from) continue; // finished before we were listening
      delays.push(Math.max(0, messages[j]!.at - f));
    }
    return delays;
  } finally {
    await c.end();
  }
}

export async function runApiSection(pgs: BenchServer, opts: BenchOptions, report: Report, log: Log) {
  const url = await pgs.createDatabase("bench_api");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let app: ChildProcess | null = null;
  const file = path.join(os.tmpdir(), `batchboard-bench-${process.pid}.jsonl`);
  const ingestRowOf = (setting: string, n: number, s: number, notes: string): Row =>
    ({ section: "ingest", system: "batchboard API", setting, jobs: n, seconds: round(s, 2), perSecond: round(n / s), unit: "records/s", notes });
  const ingestRow = (setting: string, n: number, s: number, notes: string) => report.rows.push(ingestRowOf(setting, n, s, notes));
  const fail = (setting: string, err: unknown) => {
    report.rows.push(failedRow(log, { section: "ingest", system: "batchboard API", setting, unit: "records/s" }, err));
  };
  try {
    app = await startApp(url, port, log);
    log("app ready");

    // 1. ingest: inline batches through POST /api/batches (the worker is off: pure ingest). A small
    // warm-up request first (a running server has its route loaded and compiled), then `ingestRuns`
    // timed ones; the row is their median. Each is cancelled: its jobs stay in the table, and the
    // worker runs only the big batch.
    try {
      const inline = (n: number, name: string) => ({
        flow: "echo",
        parameters: { delay_ms: 0 },
        records: Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: reviewText(i) })),
        concurrency: opts.concurrency,
        name,
      });
      const warm = await api<{ id: string }>(base, "POST", "/api/batches", inline(1000, "bench inline warm-up"));
      await api(base, "POST", `/api/batches/${warm.json.id}/cancel`);
      const body = inline(opts.inlineRecords, "bench inline");
      const mb = (JSON.stringify(body).length / 1e6).toFixed(1);
      const runs: Row[] = [];
      for (let i = 0; i < opts.ingestRuns; i++) {
        const r = await api<{ id: string }>(base, "POST", "/api/batches", body);
        log(`inline batch: ${opts.inlineRecords} records in ${round(r.ms / 1000, 2)} s`);
        runs.push(ingestRowOf(`inline batch of ${opts.inlineRecords.toLocaleString("en-US")} records, POST /api/batches`, opts.inlineRecords, r.ms / 1000, `${mb} MB JSON body; request time end to end, after a 1,000-record warm-up request`));
        await api(base, "POST", `/api/batches/${r.json.id}/cancel`);
      }
      report.rows.push(medianRow(runs, "requests"));
    } catch (err) {
      fail("inline batch, POST /api/batches", err);
    }

    // 2. ingest: a dataset import, streamed as JSONL to POST /api/datasets
    let datasetName: string | null = null;
    try {
      await writeJsonl(file, opts.datasetRows);
      const size = (await stat(file)).size;
      const t0 = performance.now();
      const r = await upload(base, `/api/datasets?name=bench-${opts.datasetRows}&format=jsonl&id_field=id`, file, "application/x-ndjson");
      const s = (performance.now() - t0) / 1000;
      if (r.status !== 201) throw new Error(`POST /api/datasets: ${r.status} ${r.body.slice(0, 300)}`);
      datasetName = `bench-${opts.datasetRows}`;
      ingestRow(`dataset import of ${opts.datasetRows.toLocaleString("en-US")} rows, POST /api/datasets (JSONL upload)`, opts.datasetRows, s, `${(size / 1e6).toFixed(0)} MB streamed`);
      log(`dataset import: ${opts.datasetRows} rows in ${round(s, 2)} s`);
    } catch (err) {
      fail("dataset import, POST /api/datasets", err);
    }

    // 3. the big batch: apiJobs jobs from the dataset (or inline records if the import failed)
    const t0 = performance.now();
    const big = await api<{ id: string }>(base, "POST", "/api/batches", {
      flow: "echo",
      parameters: { delay_ms: 0 },
      name: "bench big",
      concurrency: opts.concurrency,
      ...(datasetName ? { dataset: datasetName, max_records: opts.apiJobs } : { records: Array.from({ length: Math.min(opts.apiJobs, 100_000) }, (_, i) => `b${i}`) }),
    });
    const bigId = big.json.id;
    const { rows: counted } = await pgQuery<{ n: number }>(url, "SELECT count(*)::int AS n FROM jobs");
    const jobsInDb = counted[0]!.n;
    report.notes.push(`API run: ${jobsInDb.toLocaleString("en-US")} jobs in the database; the big batch was created from the dataset in ${round((performance.now() - t0) / 1000, 1)} s through POST /api/batches.`);
    log(`big batch ${bigId}; ${jobsInDb} jobs in the database`);

    // 4. the engine flat out (one standalone worker child, memory sampled inside), the API under it
    const memoryCapMs = (opts.quick ? 90 : 600) * 1000;
    const [worker] = await startWorkers(url, [bigId], 1, opts.concurrency, ["--expose-gc"], memoryCapMs);
    await sleep(3000); // let it reach full speed
    const deepCursor = await walkCursor(base, bigId, opts.quick ? 100 : 500);
    const events = followEvents(base, bigId);
    const endpoints: [string, string][] = [
      ["GET /api/batches/{id}", `/api/batches/${bigId}`],
      ["GET /api/batches/{id}/jobs (first page)", `/api/batches/${bigId}/jobs`],
      [`GET /api/batches/{id}/jobs (page ${deepCursor.pages + 1}, cursor)`, `/api/batches/${bigId}/jobs?cursor=${encodeURIComponent(deepCursor.cursor ?? "")}`],
      ["GET /api/stats", "/api/stats"],
      ["GET /api/batches/{id}/metrics (the batch page's chart)", `/api/batches/${bigId}/metrics`],
    ];
    const times = endpoints.map(() => [] as number[]);
    const errors = endpoints.map(() => 0);
    const until = performance.now() + (opts.quick ? 15_000 : 60_000);
    while (performance.now() < until && worker!.proc.exitCode === null) {
      for (const [i, [, p]] of endpoints.entries()) {
        const t = performance.now();
        try {
          const res = await fetch(base + p);
          await res.arrayBuffer();
          if (res.ok) times[i]!.push(performance.now() - t);
          else errors[i]!++;
        } catch {
          errors[i]!++;
        }
      }
    }
    await sleep(1000);
    await events.stop();
    report.latency = endpoints.map(([name], i) => percentiles(name, times[i]!, errors[i]!));
    const delays = await sseDelays(url, bigId, events.messages);
    report.latency.push(percentiles("SSE /api/batches/{id}/events: job finished -> event", delays, 0));
    log(`latency measured (${times.reduce((a, t) => a + t.length, 0)} requests, ${events.messages.length} SSE events); waiting for the worker`);

    const w = await worker!.result;
    report.memory = {
      jobsProcessed: w.processed,
      finishedAllJobs: w.finished,
      // the worker runs as `npm run worker` ships it (package.json)
      nodeFlags: shippedWorkerFlags(),
      rssStartMb: w.rssStartMb,
      rssPeakMb: w.rssPeakMb,
      rssEndMb: w.rssEndMb,
      growthMb: round(w.rssEndMb - w.rssStartMb, 1),
      peakGrowthMb: round(w.rssPeakMb - w.rssStartMb, 1),
      heapUsedStartMb: w.heapUsedStartMb,
      heapUsedEndMb: w.heapUsedEndMb,
      afterStopAndFullGc: w.afterGc,
      cpuSeconds: w.cpuSeconds,
      note: w.finished ? "" : `the worker was stopped after ${memoryCapMs / 1000} s (run's time cap), before finishing the batch`,
      rssSamples: w.rssSamples,
    };
    const t = await pgQuery<{ done: number; s: number }>(
      url,
      `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS done, extract(epoch FROM max(finished_at) - min(started_at))::float8 AS s FROM jobs WHERE batch_id = $1`,
      [bigId],
    );
    const tr = t.rows[0]!;
    report.rows.push({
      section: "queues",
      system: "batchboard",
      setting: `1 worker, 1 batch of ${opts.apiJobs.toLocaleString("en-US")}, API under load`,
      jobs: tr.done,
      seconds: round(tr.s, 2),
      perSecond: round(tr.done / tr.s),
      unit: "jobs/s",
      rssPeakMb: w.rssPeakMb,
      cpuSeconds: w.cpuSeconds,
      notes: `with ${jobsInDb.toLocaleString("en-US")} jobs in the database${w.finished ? "" : "; stopped at the time cap"}`,
    });
    log(`memory run: ${w.processed} jobs, RSS ${w.rssStartMb} -> peak ${w.rssPeakMb} -> end ${w.rssEndMb} MB`);
  } finally {
    if (app) await stopApp(app).catch(() => {});
    await rm(file, { force: true });
    await pgs.dropDatabase("bench_api").catch(() => {});
  }
}

async function walkCursor(base: string, batchId: string, pages: number) {
  let cursor: string | null = null;
  let n = 0;
  for (; n < pages; n++) {
    const p: string = `/api/batches/${batchId}/jobs${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`;
    const r: { json: { next_cursor: string | null } } = await api<{ next_cursor: string | null }>(base, "GET", p);
    if (!r.json.next_cursor) break;
    cursor = r.json.next_cursor;
  }
  return { cursor, pages: n };
}

async function pgQuery<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query<R>(sql, params);
  } finally {
    await c.end();
  }
}
