// Real standalone workers (`tsx scripts/worker.ts`, what `npm run worker` runs) for fault injection:
// spawned, SIGKILLed or stopped gracefully, and watched for exits nobody asked for (a worker that dies on a lost
// connection is a bug the chaos run must report, with its output).
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  ready: Promise<void>;
  exited: Promise<void>;
  /** set when we killed it on purpose */
  killed: boolean;
  output(): string;
}

export interface UnexpectedExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the last lines it printed (stack traces land here) */
  output: string;
}

export interface FleetOptions {
  databaseUrl: string;
  concurrency: number;
  leaseMs: number;
  /** the worker's script (default scripts/worker.ts; test/support/chaos-worker.ts runs it with the harness's flows too) */
  script?: string;
}

export class WorkerFleet {
  readonly workers = new Set<WorkerProcess>();
  readonly unexpectedExits: UnexpectedExit[] = [];
  started = 0;

  constructor(private readonly options: FleetOptions) {}

  /** Starts one worker (running jobs get `graceMs` to finish when it is stopped) and waits until it is claiming. */
  async spawn(graceMs = 2000): Promise<WorkerProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, this.options.script ?? "scripts/worker.ts")], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: this.options.databaseUrl,
        BATCHBOARD_WORKER_CONCURRENCY: String(this.options.concurrency),
        BATCHBOARD_LEASE_MS: String(this.options.leaseMs),
        BATCHBOARD_SHUTDOWN_GRACE_MS: String(graceMs),
        BATCHBOARD_RETENTION_DAYS: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const keep = (d: Buffer) => {
      tail = (tail + String(d)).slice(-8000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const w: WorkerProcess = {
      child,
      pid: child.pid ?? -1,
      killed: false,
      output: () => tail,
      ready: new Promise<void>((resolve, reject) => {
        const onData = () => {
          // startWorker logs "started (standalone, …)" once it is registered and claiming
          if (tail.includes("started (")) {
            child.stdout!.off("data", onData);
            resolve();
          }
        };
        child.stdout!.on("data", onData);
        child.once("exit", (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${tail}`)));
      }),
      // "close": exited, and its output read to the end
      exited: new Promise<void>((resolve) => child.once("close", () => resolve())),
    };
    w.ready.catch(() => {});
    child.once("close", (code, signal) => {
      this.workers.delete(w);
      if (!w.killed) this.unexpectedExits.push({ pid: w.pid, code, signal, output: tail });
    });
    this.workers.add(w);
    this.started++;
    await w.ready;
    return w;
  }

  /** kill -9: no shutdown, no release; its leases must expire and its jobs run again */
  async kill9(w: WorkerProcess): Promise<void> {
    w.killed = true;
    w.child.kill("SIGKILL");
    await w.exited;
  }

  /** A graceful stop (SIGTERM or SIGINT, as `kill` or a terminal's Ctrl-C): resolves with its exit code. */
  async stop(w: WorkerProcess, signal: "SIGTERM" | "SIGINT"): Promise<number | null> {
    w.killed = true;
    w.child.kill(signal);
    await w.exited;
    return w.child.exitCode;
  }

  alive(): WorkerProcess[] {
    return [...this.workers];
  }

  /** Keeps `n` workers up (replaces any that died). */
  async ensure(n: number): Promise<void> {
    while (this.workers.size < n) await this.spawn();
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.workers].map(async (w) => {
        w.killed = true;
        w.child.kill("SIGTERM");
        const t = setTimeout(() => w.child.kill("SIGKILL"), 5000);
        await w.exited;
        clearTimeout(t);
      }),
    );
  }
}
