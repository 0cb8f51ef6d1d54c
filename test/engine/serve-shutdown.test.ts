// `npm start` stopped mid-batch the way a terminal stops it (SIGINT to its whole process group, as
// Ctrl-C does) or by SIGTERM to the supervising process alone, and started again: the in-process
// worker hands its jobs back before the server exits and PostgreSQL stops last, so at the default
// settings every record succeeds once, with no attempt and no interruption counted. Runs what
// `npm start` runs (scripts/lib/serve.ts) with a stand-in for the Next.js process
// (fixtures/next-stand-in.ts), on an embedded PostgreSQL of its own in a temporary data dir.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getPool } from "@/lib/db/client";
import { freePort } from "@/lib/db/embedded";
import { createBatch, getBatch } from "@/lib/engine";
import { expectCountersExact, waitFor } from "./helpers";

const root = path.resolve(import.meta.dirname, "../..");
let dataDir: string;
const started: ChildProcess[] = [];

interface Supervisor {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  databaseUrl: string;
}

/** The postmaster of the data dir, if one is running. */
function postmaster(): number | null {
  const file = path.join(dataDir, "pg", "postmaster.pid");
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function start(port: number): Promise<Supervisor> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BATCHBOARD_DATA_DIR: dataDir,
    PORT: String(port),
    BATCHBOARD_AUTH: "off",
    BATCHBOARD_LOAD_DEMO: "0",
    // far longer than a stop: a job a stop failed to hand back would come back as an interruption
    BATCHBOARD_LEASE_MS: "10000",
    BATCHBOARD_SHUTDOWN_GRACE_MS: "1000",
  };
  delete env.DATABASE_URL;
  // a process group of its own, as a terminal gives `npm start`
  const child = spawn(process.execPath, ["--import", "tsx", "test/engine/fixtures/serve.ts"], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += String(d)));
  child.stderr!.on("data", (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await waitFor("the server ready", async () => {
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before it was ready:\n${out}`);
    return out.includes("ready: http://");
  }, 120_000);
  const pgPort = /embedded PostgreSQL on port (\d+)/.exec(out)?.[1];
  const creds = JSON.parse(readFileSync(path.join(dataDir, "postgres.json"), "utf8")) as { user: string; password: string };
  const databaseUrl = `postgresql://${encodeURIComponent(creds.user)}:${encodeURIComponent(creds.password)}@127.0.0.1:${pgPort}/batchboard`;
  return { child, exited, output: () => out, databaseUrl };
}

async function useDatabase(url: string) {
  await closeDb();
  process.env.DATABASE_URL = url;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "batchboard-serve-"));
});

afterAll(async () => {
  await closeDb();
  for (const c of started) if (c.pid && groupAlive(c.pid)) process.kill(-c.pid, "SIGKILL");
  const pm = postmaster();
  if (pm) process.kill(pm, "SIGQUIT");
  await waitFor("PostgreSQL gone", async () => postmaster() === null);
  await rm(dataDir, { recursive: true, force: true });
});

describe("npm start, stopped and started again mid-batch", () => {
  it("SIGINT to the process group, then SIGTERM to the supervisor: jobs handed back, server stopped, then PostgreSQL; every record succeeds once", async () => {
    const port = await freePort();
    let s = await start(port);
    await useDatabase(s.databaseUrl);
    // 1.5 s in the field report; shorter here, with the same shape: default retry settings, 16 at once
    const records = Array.from({ length: 240 }, (_, i) => ({ id: `r${i}` }));
    const batch = await createBatch({ flow: "sleep", parameters: { ms: 400 }, source: { kind: "records", records, recordIdField: "id" }, shuffle: false, concurrency: 16 });
    const stops: { how: string; code: number | null; groupGone: boolean; databaseGone: boolean; order: number[] }[] = [];
    for (const how of ["SIGINT to the process group", "SIGTERM to the supervisor"]) {
      const before = (await getBatch(batch.id)).succeeded;
      await waitFor("jobs under way", async () => (await getBatch(batch.id)).succeeded > before + 40, 60_000);
      await closeDb();
      if (how.startsWith("SIGINT")) process.kill(-s.child.pid!, "SIGINT");
      else s.child.kill("SIGTERM");
      const code = await s.exited;
      const out = s.output();
      stops.push({
        how,
        code,
        groupGone: !groupAlive(s.child.pid!),
        databaseGone: postmaster() === null,
        // the worker handed back, then the server exited, then PostgreSQL stopped
        order: ["handed back", "server exited", "PostgreSQL stopped"].map((m) => out.indexOf(m, out.indexOf(`: stopping`))),
      });
      s = await start(port);
      await useDatabase(s.databaseUrl);
    }
    const done = await waitFor("the batch finished", async () => {
      const b = await getBatch(batch.id);
      return ["completed", "failed", "cancelled"].includes(b.status) && b;
    }, 120_000);
    expect({ status: done.status, succeeded: done.succeeded, failed: done.failed }).toEqual({ status: "completed", succeeded: 240, failed: 0 });
    await expectCountersExact(batch.id);
    const { rows } = await getPool().query(
      `SELECT count(*) FILTER (WHERE attempts <> 1)::int AS attempts, count(*) FILTER (WHERE interruptions <> 0)::int AS interrupted,
              (SELECT COALESCE(sum(succeeded), 0)::int FROM batch_metrics WHERE batch_id = $1) AS metered
       FROM jobs WHERE batch_id = $1`,
      [batch.id],
    );
    // no stop counted an attempt or an interruption; every success counted once
    expect(rows[0]).toEqual({ attempts: 0, interrupted: 0, metered: 240 });
    for (const stop of stops) {
      expect({ ...stop, ordered: stop.order.every((i, k) => i >= 0 && (k === 0 || i > stop.order[k - 1]!)) }).toMatchObject({
        how: stop.how,
        code: 0,
        groupGone: true,
        databaseGone: true,
        ordered: true,
      });
    }
    await closeDb();
    process.kill(-s.child.pid!, "SIGINT");
    expect(await s.exited).toBe(0);
  }, 300_000);
});
