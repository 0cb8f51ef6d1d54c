// A probe of the pages section's scroll (not part of `npm run bench`): the same seed and the same
// measureScroll as bench/pages/section.ts, against one or more production builds side by side, runs
// interleaved (A B A B ...) so a before/after comparison shares the machine's moods, optionally with
// a Chromium trace of a run (analysed by bench/pages/trace-breakdown.ts).
//
//   NEXT_DIST_DIR=.next-before npx next build   # the code before, into its own dist dir
//   npx next build                              # (or any other dist dirs)
//   node --import tsx bench/pages/scroll-probe.ts --dists=.next-before,.next --runs=3 [--jobs=1000000] [--trace=/tmp/scroll]
//
// Each dist dir is served by scripts/next-server.mjs as `npm start` serves it, on one seeded database.
import { spawn, type ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright";
import { freePort } from "@/lib/db/embedded";
import { migrate } from "@/lib/db/migrate";
import { pollUntil, ROOT, round } from "../lib/child";
import { startBenchServer } from "../lib/pg";
import { stopApp } from "../api/section";
import { measureScroll, scrollDetailLines, seed } from "./section";

const { values } = parseArgs({
  options: {
    dists: { type: "string", default: ".next" },
    runs: { type: "string", default: "3" },
    jobs: { type: "string", default: "1000000" },
    rows: { type: "string", default: "10000" },
    trace: { type: "string" },
    // CSS experiments without a build: "name=css|name2=css2" adds variants of each dist with that CSS injected
    css: { type: "string" },
    // lists each frame over 50 ms with the API responses that ended in the 500 ms before it
    detail: { type: "boolean", default: false },
  },
});
const dists = values.dists.split(",");
const cssVariants: [string, string][] = values.css ? values.css.split("|").map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)] as [string, string]) : [];
const log = (l: string) => console.log(`[probe] ${l}`);

async function serveDist(url: string, dist: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, "scripts", "next-server.mjs"), "start", JSON.stringify({ port, host: "127.0.0.1" })], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: url,
      NEXT_DIST_DIR: dist,
      BATCHBOARD_WORKER: "0",
      BATCHBOARD_LOAD_DEMO: "0",
      BATCHBOARD_AUTH: "off",
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  const base = `http://127.0.0.1:${port}`;
  await pollUntil(async () => (await fetch(`${base}/api/health`).catch(() => null))?.ok ?? false, 500, 120_000, `${dist} /api/health`);
  return { child, base };
}

async function main() {
  const pgs = await startBenchServer({ durable: false, profile: false });
  const apps: ChildProcess[] = [];
  const browser = await chromium.launch({ executablePath: process.env.BENCH_CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    const url = await pgs.createDatabase("bench_pages_probe");
    await migrate(url);
    await seed(url, log, Number(values.jobs));
    const bases: string[] = [];
    for (const d of dists) {
      const { child, base } = await serveDist(url, d);
      apps.push(child);
      bases.push(base);
      // one view first: the page's slower panels (the summary) are computed and kept before any scroll
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${base}/batches/bench_big_batch`);
      await page.waitForLoadState("networkidle", { timeout: 120_000 }).catch(() => {});
      await ctx.close();
      log(`${d} on ${base}`);
    }
    const variants = dists.flatMap((d, i) => [{ name: d, base: bases[i]!, css: undefined as string | undefined }, ...cssVariants.map(([n, css]) => ({ name: `${d}+${n}`, base: bases[i]!, css }))]);
    const out: Record<string, string[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
    for (let r = 0; r < Number(values.runs); r++) {
      for (const v of variants) {
        const trace = values.trace && r === 0 ? `${values.trace}-${v.name.replace(/[^\w.+-]/g, "_")}.json` : undefined;
        const s = await measureScroll(browser, `${v.base}/batches/bench_big_batch`, Number(values.rows), trace, v.css, values.detail);
        for (const l of scrollDetailLines(s)) log(`  ${v.name} ${l}`);
        const line = `longest ${round(s.maxFrameMs, 1)} ms, p95 ${round(s.p95FrameMs, 1)}, ${s.over50} >50 / ${s.over100} >100 of ${s.frames} frames, ${s.rows} rows in ${round(s.seconds, 1)} s, longest LoAF ${s.longestLoafMs === null ? "none" : round(s.longestLoafMs)}${trace ? ` (traced: ${trace})` : ""}`;
        out[v.name]!.push(line);
        log(`run ${r + 1} ${v.name}: ${line} (load ${loadavg().map((x) => x.toFixed(2)).join(" ")})`);
      }
    }
    for (const v of variants) log(`${v.name}:\n  ${out[v.name]!.join("\n  ")}`);
  } finally {
    await browser.close().catch(() => {});
    for (const a of apps) await stopApp(a).catch(() => {});
    await pgs.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
