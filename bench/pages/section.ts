// Page speed in Chromium against the real app (a production build, bench/api/section.ts startApp) on a
// database of 10,000 batches and one batch of 1,000,000 jobs, seeded set-based into the real tables:
//   (a) the batch list `/`: navigation start until its first rows are on screen;
//   (b) the 1,000,000-job batch's page: until its header, progress and first job rows are on screen;
//   (c) that batch's jobs table scrolled through 10,000 rows: the longest frame while it scrolls.
// Each load is timed inside the page (performance.now() is measured from navigation start): a
// MutationObserver notes when the awaited elements are in the document with a size, and the next
// animation frame (the paint) stops the clock. Also EXPLAIN ANALYZE of the list sorted by rate and
// of the jobs pages of the big batch, and those API requests timed.
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright";
import { freePort } from "@/lib/db/embedded";
import { migrate } from "@/lib/db/migrate";
import { BATCH_RATE_SQL, BATCH_SELECT, batchExpiredSql } from "@/lib/db/sql/batches";
import { JOB_COLUMNS } from "@/lib/db/sql/jobs";
import type { BenchOptions } from "../lib/args";
import { round } from "../lib/child";
import type { BenchServer } from "../lib/pg";
import type { Report, Target } from "../lib/report";
import { startApp, stopApp } from "../api/section";
import { median } from "../lib/median";

const SECTION = "pages";
const CHROMIUM = process.env.BENCH_CHROMIUM ?? "/usr/bin/chromium";
const BIG = "bench_big_batch";
const SMALL_BATCHES = 10_000;
const BIG_JOBS = 1_000_000;
const SCROLL_ROWS = 10_000;
type Log = (l: string) => void;

/** Set-based seed: two datasets, 10,000 finished batches of 10 jobs each, one of 1,000,000 jobs. */
export async function seed(url: string, log: Log, bigJobs = BIG_JOBS) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const step = async (what: string, sql: string) => {
      const t = performance.now();
      await c.query(sql);
      log(`seed: ${what} in ${round((performance.now() - t) / 1000, 1)} s`);
    };
    await step(
      "datasets",
      `INSERT INTO datasets (id, name, kind, format, id_field, record_count, size_bytes) VALUES
         ('ds_bench_small', 'bench-small', 'upload', 'jsonl', 'id', 10, 1000),
         ('ds_bench_big', 'bench-big', 'upload', 'jsonl', 'id', ${bigJobs}, ${bigJobs * 60})`,
    );
    await step(
      `${bigJobs.toLocaleString("en-US")} + 10 dataset records`,
      `INSERT INTO dataset_records (dataset_id, position, record_id, data)
       SELECT 'ds_bench_small', g, 'r' || g, jsonb_build_object('id', 'r' || g, 'text', 'review ' || g || ': works as described')
       FROM generate_series(0, 9) g
       UNION ALL
       SELECT 'ds_bench_big', g, 'rec-' || lpad(g::text, 7, '0'), jsonb_build_object('id', 'rec-' || lpad(g::text, 7, '0'), 'text', 'review ' || g || ': the product arrived on time and works as described')
       FROM generate_series(0, ${bigJobs - 1}) g`,
    );
    // finished batches, one a minute back from now, with failures, costs and durations that vary so
    // every sort key (created, progress, cost, rate) has something to order
    await step(
      `${SMALL_BATCHES.toLocaleString("en-US")} batches`,
      `INSERT INTO batches (id, name, flow, parameters, dataset_id, status, shuffle, concurrency, total, succeeded, failed,
                            attempts, cost_spent, claim_cursor, created_at, started_at, completed_at, updated_at)
       SELECT 'bench_' || lpad(g::text, 5, '0'), 'bench batch ' || g, CASE WHEN g % 2 = 0 THEN 'echo' ELSE 'classify' END, '{}',
              'ds_bench_small', 'completed', false, 5, 10, 10 - g % 3, g % 3, 10, (g % 97) * 0.013, 10,
              now() - make_interval(secs => g * 60 + 60), now() - make_interval(secs => g * 60 + 59),
              now() - make_interval(secs => g * 60 + 58 - (g % 50)), now()
       FROM generate_series(1, ${SMALL_BATCHES}) g`,
    );
    await step(
      `${(SMALL_BATCHES * 10).toLocaleString("en-US")} jobs of those batches`,
      `INSERT INTO jobs (batch_id, record_id, ordinal, position, status, attempts, result, error_code, error_message, error_retryable,
                         cost, started_at, finished_at, duration_ms)
       SELECT b.id, 'r' || p, p, p, (CASE WHEN p < b.failed THEN 'failed' ELSE 'succeeded' END)::job_status, 1,
              CASE WHEN p < b.failed THEN NULL ELSE jsonb_build_object('id', 'r' || p, 'text', 'review ' || p) END,
              CASE WHEN p < b.failed THEN 'flow_error' END, CASE WHEN p < b.failed THEN 'the flow threw' END,
              CASE WHEN p < b.failed THEN false END,
              b.cost_spent / 10, b.started_at, b.started_at + make_interval(secs => p), 900
       FROM batches b CROSS JOIN generate_series(0, 9) p WHERE b.id LIKE 'bench\\_%' AND b.id <> '${BIG}'`,
    );
    // the big one: the newest batch, finished, 1% failed
    await step(
      "the 1,000,000-job batch",
      `INSERT INTO batches (id, name, flow, parameters, dataset_id, status, shuffle, concurrency, total, succeeded, failed,
                            attempts, cost_spent, claim_cursor, created_at, started_at, completed_at, updated_at)
       VALUES ('${BIG}', 'bench one million', 'classify', '{"labels": ["positive", "negative"]}', 'ds_bench_big', 'completed', false, 64,
               ${bigJobs}, ${bigJobs - bigJobs / 100}, ${bigJobs / 100}, ${bigJobs}, ${bigJobs * 0.0002},
               ${bigJobs}, now() - interval '20 minutes', now() - interval '20 minutes', now() - interval '2 minutes', now())`,
    );
    await step(
      `${bigJobs.toLocaleString("en-US")} jobs`,
      `INSERT INTO jobs (batch_id, record_id, ordinal, position, status, attempts, result, error_code, error_message, error_retryable,
                         cost, started_at, finished_at, duration_ms)
       SELECT '${BIG}', 'rec-' || lpad(g::text, 7, '0'), g, g,
              (CASE WHEN g % 100 = 7 THEN 'failed' ELSE 'succeeded' END)::job_status, 1,
              CASE WHEN g % 100 = 7 THEN NULL
                   ELSE jsonb_build_object('label', CASE WHEN g % 3 = 0 THEN 'negative' ELSE 'positive' END, 'score', round(((g % 1000) / 1000.0)::numeric, 3)) END,
              CASE WHEN g % 100 = 7 THEN 'flow_error' END, CASE WHEN g % 100 = 7 THEN 'the provider answered 500' END,
              CASE WHEN g % 100 = 7 THEN true END,
              0.0002, now() - interval '20 minutes' + make_interval(secs => g * 0.001), now() - interval '20 minutes' + make_interval(secs => g * 0.001 + 0.05), 50
       FROM generate_series(0, ${bigJobs - 1}) g`,
    );
    await step("VACUUM ANALYZE", "VACUUM ANALYZE");
  } finally {
    await c.end();
  }
}

interface Plan {
  name: string;
  ms: number;
  top: string;
}

/** EXPLAIN ANALYZE of the statements the two pages read with, in the shape lib/engine builds them. */
export async function explain(url: string): Promise<Plan[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const run = async (name: string, sql: string, params: unknown[] = []): Promise<Plan> => {
      const r = await c.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
      const json = (r.rows[0]!["QUERY PLAN"] as { Plan: Record<string, unknown>; "Execution Time": number }[])[0]!;
      const node = (p: Record<string, unknown>): string => {
        const kids = (p.Plans as Record<string, unknown>[] | undefined) ?? [];
        const own = `${p["Node Type"] as string}${p["Index Name"] ? ` using ${p["Index Name"] as string}` : ""}${p["Relation Name"] && !p["Index Name"] ? ` on ${p["Relation Name"] as string}` : ""}`;
        return kids.length ? `${own} <- ${kids.map(node).join(", ")}` : own;
      };
      return { name, ms: round(json["Execution Time"], 2), top: node(json.Plan) };
    };
    // lib/engine/list-batches.ts: sort rate desc, first page of 50, and its count
    const rateKey = `COALESCE(${BATCH_RATE_SQL}, -1)`;
    const notExpired = `NOT ${batchExpiredSql()}`;
    return [
      await run(
        "batch list, sort by rate (first page of 51)",
        `SELECT ${BATCH_SELECT}, ${rateKey} AS sort_key FROM batches b WHERE ${notExpired} ORDER BY ${rateKey} DESC, b.id DESC LIMIT 51`,
      ),
      await run("batch list, sort by created (first page of 51)", `SELECT ${BATCH_SELECT} FROM batches b WHERE ${notExpired} ORDER BY b.created_at DESC, b.id DESC LIMIT 51`),
      await run("batch list, its count", `SELECT count(*)::int AS n FROM batches b WHERE ${notExpired}`),
      await run("jobs of the 1M batch, run order, first page", `SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.batch_id = $1 ORDER BY j.ordinal LIMIT 101`, [BIG]),
      await run("jobs of the 1M batch, run order, page at ordinal 900,000", `SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.batch_id = $1 AND j.ordinal > $2 ORDER BY j.ordinal LIMIT 101`, [BIG, 900_000]),
      await run(
        "jobs of the 1M batch, status failed, first page",
        `SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.batch_id = $1 AND j.status = ANY($2::job_status[]) ORDER BY j.ordinal LIMIT 101`,
        [BIG, ["failed"]],
      ),
      await run(
        "jobs of the 1M batch, recently finished, first page",
        `SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.batch_id = $1 AND j.finished_at IS NOT NULL ORDER BY j.finished_at DESC, j.id DESC LIMIT 101`,
        [BIG],
      ),
    ];
  } finally {
    await c.end();
  }
}

/** Median of a few timed GETs of each API request the pages make. */
async function timeApi(base: string): Promise<{ name: string; ms: number }[]> {
  const reqs: [string, string][] = [
    ["GET /api/batches?sort=rate&order=desc", "/api/batches?sort=rate&order=desc"],
    ["GET /api/batches (created)", "/api/batches"],
    ["GET /api/batches/{1M}", `/api/batches/${BIG}`],
    ["GET /api/batches/{1M}/jobs (first page)", `/api/batches/${BIG}/jobs?limit=100`],
    ["GET /api/batches/{1M}/jobs?sort=finished", `/api/batches/${BIG}/jobs?limit=100&sort=finished`],
  ];
  const out: { name: string; ms: number }[] = [];
  for (const [name, p] of reqs) {
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      const res = await fetch(base + p);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${name}: ${res.status}`);
      if (i > 0) times.push(performance.now() - t); // the first one warms the route
    }
    out.push({ name, ms: round(median(times), 1) });
  }
  return out;
}

/**
 * In every page, before its scripts: watches the document until every selector matches an element
 * with a size, then stamps the next animation frame (the frame that paints them) on window.
 */
// Browser code is sent as text: functions compiled by tsx carry helper calls (__name) the page lacks;
// the contexts bypass the app's Content-Security-Policy, which would refuse text evaluated in the page.
export const watchScript = (selectors: string[]) => `(() => {
  const selectors = ${JSON.stringify(selectors)};
  const ready = () => selectors.every((s) => {
    const el = document.querySelector(s);
    return !!el && el.getBoundingClientRect().height > 0;
  });
  let done = false;
  const obs = new MutationObserver(() => {
    if (done || !ready()) return;
    done = true;
    obs.disconnect();
    requestAnimationFrame(() => { window.__ready = performance.now(); });
  });
  obs.observe(document, { childList: true, subtree: true, attributes: true });
})();`;

async function timedLoad(ctx: BrowserContext, url: string, selectors: string[]): Promise<number> {
  const page = await ctx.newPage();
  try {
    await page.addInitScript({ content: watchScript(selectors) });
    await page.goto(url, { waitUntil: "commit" });
    await page.waitForFunction("window.__ready !== undefined", null, { timeout: 60_000, polling: 50 });
    return (await page.evaluate("window.__ready")) as number;
  } finally {
    await page.close();
  }
}

interface LoadFigures {
  first: number;
  coldMedian: number;
  warmMedian: number;
  cold: number[];
  warm: number[];
}

/** The first load after the app started, then `n` loads each in a new browser context (empty cache), then `n` in one context (warm cache). */
export async function measureLoads(browser: Browser, url: string, selectors: string[], n: number, log: Log, what: string): Promise<LoadFigures> {
  const one = async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    try {
      return await timedLoad(ctx, url, selectors);
    } finally {
      await ctx.close();
    }
  };
  const first = await one();
  const cold: number[] = [];
  for (let i = 0; i < n; i++) cold.push(await one());
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const warm: number[] = [];
  try {
    await timedLoad(ctx, url, selectors); // fills the cache
    for (let i = 0; i < n; i++) warm.push(await timedLoad(ctx, url, selectors));
  } finally {
    await ctx.close();
  }
  const f = { first: round(first), cold: cold.map((x) => round(x)), warm: warm.map((x) => round(x)), coldMedian: round(median(cold)), warmMedian: round(median(warm)) };
  log(`${what}: first load ${f.first} ms; empty cache ${f.cold.join(", ")} ms (median ${f.coldMedian}); warm cache ${f.warm.join(", ")} ms (median ${f.warmMedian})`);
  return f;
}

export interface ScrollFigures {
  rows: number;
  seconds: number;
  frames: number;
  maxFrameMs: number;
  p95FrameMs: number;
  over50: number;
  over100: number;
  longestLoafMs: number | null;
  loafSupported: boolean;
  /** with `detail` (the probe's --detail): when each frame over 50 ms ended and when each API response ended, ms from the scroll's start */
  detail?: { longFrames: { at: number; ms: number }[]; responses: { at: number; path: string }[] };
}

/** Trace categories for a scroll's Chromium trace (bench/pages/scroll-probe.ts): main thread, frames, raster, GC. */
export const TRACE_CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "disabled-by-default-devtools.timeline.frame",
  "toplevel",
  "v8",
  "disabled-by-default-v8.gc",
  "cc",
  "blink.user_timing",
];

/**
 * Scrolls the jobs table from the top until row `rows` is rendered, in steps of about 12 rows a frame.
 * With `trace`, a Chromium trace of the scroll (from its first step to its end) is written there.
 */
export async function measureScroll(browser: Browser, url: string, rows: number, trace?: string, css?: string, detail = false): Promise<ScrollFigures> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  try {
    const page: Page = await ctx.newPage();
    await page.goto(url);
    await page.locator('tr[data-index="0"]').waitFor();
    if (css) await page.addStyleTag({ content: css }); // a probe's CSS experiment (scroll-probe.ts --css), never the bench's
    await page.waitForTimeout(500);
    if (trace) await browser.startTracing(page, { path: trace, categories: TRACE_CATEGORIES });
    const script = `(async (target, detail) => {
      const box = document.querySelector('[data-testid="jobs-scroll"]');
      const loafSupported = PerformanceObserver.supportedEntryTypes.includes("long-animation-frame");
      const loafs = [];
      const po = new PerformanceObserver((l) => l.getEntries().forEach((e) => loafs.push(e.duration)));
      po.observe({ type: loafSupported ? "long-animation-frame" : "longtask", buffered: false });
      const deltas = [];
      const longFrames = [];
      const responses = [];
      const ro = detail ? new PerformanceObserver((l) => l.getEntries().forEach((e) => e.name.includes("/api/") && responses.push({ at: e.responseEnd, path: new URL(e.name).pathname + new URL(e.name).search }))) : null;
      ro?.observe({ type: "resource", buffered: false });
      let last = performance.now();
      let running = true;
      const tick = (t) => {
        deltas.push(t - last);
        if (detail && t - last > 50) longFrames.push({ at: t, ms: t - last });
        last = t;
        if (running) requestAnimationFrame(tick);
      };
      requestAnimationFrame((t) => {
        last = t;
        requestAnimationFrame(tick);
      });
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      const t0 = performance.now();
      const lastIndex = () => {
        const rs = box.querySelectorAll("tr[data-index]");
        return rs.length ? Number(rs[rs.length - 1].dataset.index) : -1;
      };
      const deadline = t0 + 180_000;
      while (lastIndex() < target - 1 && performance.now() < deadline) {
        const before = box.scrollTop;
        box.scrollTop = before + 450;
        await frame();
        if (box.scrollTop === before) await frame(); // at the end of what is loaded: the next page is on its way
      }
      const seconds = (performance.now() - t0) / 1000;
      await frame();
      running = false;
      po.disconnect();
      ro?.disconnect();
      const s = [...deltas].sort((a, b) => a - b);
      return {
        rows: lastIndex() + 1,
        seconds,
        frames: deltas.length,
        maxFrameMs: s.length ? s[s.length - 1] : NaN,
        p95FrameMs: s.length ? s[Math.floor(s.length * 0.95)] : NaN,
        over50: deltas.filter((d) => d > 50).length,
        over100: deltas.filter((d) => d > 100).length,
        longestLoafMs: loafs.length ? Math.max(...loafs) : null,
        loafSupported,
        ...(detail ? { detail: { longFrames: longFrames.map((f) => ({ at: f.at - t0, ms: f.ms })), responses: responses.map((r) => ({ at: r.at - t0, path: r.path })) } } : {}),
      };
})(${rows}, ${detail})`;
    const figures = (await page.evaluate(script)) as ScrollFigures;
    if (trace) await browser.stopTracing();
    return figures;
  } finally {
    await ctx.close();
  }
}

/** BENCH_SCROLL_DETAIL=1: each scroll also logs its frames over 50 ms with the API responses that ended just before them. */
const SCROLL_DETAIL = process.env.BENCH_SCROLL_DETAIL === "1";

/** A scroll's frames over 50 ms, each with the API responses that ended in the 500 ms before it, and its other responses. */
export function scrollDetailLines(s: ScrollFigures): string[] {
  if (!s.detail) return [];
  const short = (p: string) => p.replace(/^\/api\/batches\/[^/]+/, "");
  const lines = s.detail.longFrames.map((f) => {
    const near = s.detail!.responses.filter((x) => x.at <= f.at && x.at > f.at - 500).map((x) => `${short(x.path)} ${round(f.at - x.at)} ms before`);
    return `frame of ${round(f.ms)} ms at ${round(f.at)} ms${near.length ? `: after ${near.join(", ")}` : ""}`;
  });
  const other = s.detail.responses.filter((x) => !x.path.includes("/jobs"));
  lines.push(`responses other than jobs pages during the scroll: ${other.map((x) => `${short(x.path)} at ${round(x.at)} ms`).join(", ") || "none"}`);
  return lines;
}

const fmtMs = (n: number) => `${Math.round(n).toLocaleString("en-US")} ms`;

export async function runPagesSection(pgs: BenchServer, opts: BenchOptions, report: Report, log: Log): Promise<Target[]> {
  const db = "bench_pages";
  const loads = opts.quick ? 3 : 5;
  const targets: Target[] = [];
  const notMeasured = (name: string, goal: string): Target => ({ name, goal, value: "-", status: "NOT MEASURED" });
  const names = {
    list: "batch list `/` first rows (10,000 batches)",
    batch: "batch page of the 1,000,000-job batch: header, progress, first job rows",
    scroll: `jobs table scrolled through ${SCROLL_ROWS.toLocaleString("en-US")} rows: longest frame`,
  };
  let app: ChildProcess | null = null;
  let browser: Browser | null = null;
  try {
    const url = await pgs.createDatabase(db);
    await migrate(url);
    const t = performance.now();
    await seed(url, log);
    report.notes.push(
      `pages: seeded ${SMALL_BATCHES.toLocaleString("en-US")} batches of 10 jobs and one of ${BIG_JOBS.toLocaleString("en-US")} jobs with set-based SQL in ${round((performance.now() - t) / 1000, 1)} s.`,
    );

    const plans = await explain(url);
    for (const p of plans) log(`EXPLAIN ${p.name}: ${p.ms} ms (${p.top})`);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    app = await startApp(url, port, log);
    const api = await timeApi(base);
    for (const a of api) log(`${a.name}: median ${a.ms} ms`);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    log(`Chromium ${browser.version()} at ${CHROMIUM}`);
    const list = await measureLoads(browser, `${base}/`, ['table[aria-label="Batches"] tbody tr'], loads, log, "batch list");
    const batch = await measureLoads(
      browser,
      `${base}/batches/${BIG}`,
      ["h1", '[aria-label="Progress by status"] [role="progressbar"]', 'table[aria-label="Jobs"] tr[data-index="0"]'],
      loads,
      log,
      "1M batch page",
    );
    const runs: ScrollFigures[] = [];
    for (let i = 0; i < (opts.quick ? 1 : 3); i++) {
      const s = await measureScroll(browser, `${base}/batches/${BIG}`, SCROLL_ROWS, undefined, undefined, SCROLL_DETAIL);
      for (const line of scrollDetailLines(s)) log(`scroll ${i + 1} ${line}`);
      log(
        `scroll ${i + 1}: ${s.rows} rows in ${round(s.seconds, 1)} s, ${s.frames} frames, longest ${round(s.maxFrameMs, 1)} ms, p95 ${round(s.p95FrameMs, 1)} ms, ${s.over50} over 50 ms, ${s.over100} over 100 ms; longest ${s.loafSupported ? "long animation frame" : "long task"} ${s.longestLoafMs === null ? "none" : `${round(s.longestLoafMs)} ms`}`,
      );
      runs.push(s);
    }

    const loadRow = (setting: string, f: LoadFigures) =>
      report.rows.push({
        section: SECTION,
        system: "batchboard dashboard",
        setting,
        jobs: null,
        seconds: round(f.coldMedian / 1000, 3),
        perSecond: null,
        unit: "ms to first screen",
        notes: `median of ${f.cold.length} loads with an empty cache (${f.cold.join(", ")} ms); warm cache median ${f.warmMedian} ms (${f.warm.join(", ")}); first load after start ${f.first} ms`,
      });
    loadRow("`/` batch list, 10,000 batches", list);
    loadRow("`/batches/{id}`, 1,000,000 jobs", batch);
    const worst = runs.reduce((a, b) => (b.maxFrameMs > a.maxFrameMs ? b : a));
    const medianMax = median(runs.map((r) => r.maxFrameMs));
    report.rows.push({
      section: SECTION,
      system: "batchboard dashboard",
      setting: `jobs table scrolled through ${SCROLL_ROWS.toLocaleString("en-US")} rows`,
      jobs: worst.rows,
      seconds: round(median(runs.map((r) => r.seconds)), 1),
      perSecond: null,
      unit: "rows",
      notes: runs
        .map(
          (r, i) =>
            `run ${i + 1}: longest frame ${round(r.maxFrameMs, 1)} ms, p95 ${round(r.p95FrameMs, 1)} ms, ${r.over50} frames over 50 ms of ${r.frames}, longest ${r.loafSupported ? "LoAF" : "long task"} ${r.longestLoafMs === null ? "none" : `${round(r.longestLoafMs)} ms`}`,
        )
        .join("; "),
    });
    for (const p of plans) {
      report.rows.push({ section: SECTION, system: "PostgreSQL EXPLAIN ANALYZE", setting: p.name, jobs: null, seconds: round(p.ms / 1000, 4), perSecond: null, unit: "execution", notes: p.top });
    }
    for (const a of api) {
      report.rows.push({ section: SECTION, system: "batchboard API", setting: a.name, jobs: null, seconds: round(a.ms / 1000, 4), perSecond: null, unit: "median of 5", notes: "" });
    }
    targets.push(
      { name: names.list, goal: "<= 1 s (median, empty cache)", value: `${fmtMs(list.coldMedian)} (warm ${fmtMs(list.warmMedian)}, first ${fmtMs(list.first)})`, status: list.coldMedian <= 1000 ? "MET" : "MISSED" },
      { name: names.batch, goal: "<= 1 s (median, empty cache)", value: `${fmtMs(batch.coldMedian)} (warm ${fmtMs(batch.warmMedian)}, first ${fmtMs(batch.first)})`, status: batch.coldMedian <= 1000 ? "MET" : "MISSED" },
      {
        name: names.scroll,
        goal: "no frame > 100 ms",
        value: `median of runs' longest ${round(medianMax, 1)} ms; worst ${round(worst.maxFrameMs, 1)} ms (${runs.map((r) => r.over100).reduce((a, b) => a + b, 0)} frames over 100 ms in ${runs.length} runs)`,
        status: runs.every((r) => r.rows >= SCROLL_ROWS) ? (worst.maxFrameMs <= 100 ? "MET" : "MISSED") : "NOT MEASURED",
      },
    );
  } catch (err) {
    log(`pages: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    report.notes.push(`pages: failed: ${err instanceof Error ? err.message : String(err)}`);
    for (const [k, goal] of [["list", "<= 1 s"], ["batch", "<= 1 s"], ["scroll", "no frame > 100 ms"]] as const) {
      if (!targets.some((t) => t.name === names[k])) targets.push(notMeasured(names[k], goal));
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (app) await stopApp(app).catch(() => {});
    await pgs.dropDatabase(db).catch(() => {});
  }
  return targets;
}
