// The physical reference: what PostgreSQL itself does on this server with the cheapest possible job
// transitions, from a plain pg loop (pgbench is not shipped with the embedded binaries).
//   update1      one UPDATE of a small row per transaction (autocommit), N clients, for D seconds
//   update100    the same, 100 rows per statement (id = ANY($1))
//   skiplocked   a bare queue: claim 50 rows with FOR UPDATE SKIP LOCKED, then complete them in one
//                statement, N clients, until the table's jobs are all done
import pg from "pg";
import { childConfig, childMain, ResourceSampler, round } from "../lib/child";
import type { SystemResult } from "../lib/types";

interface Config {
  url: string;
  mode: "update1" | "update100" | "skiplocked";
  clients: number;
  durationMs: number;
  jobs: number;
}

const cfg = childConfig<Config>();
const ROWS = 100_000;
let clients: pg.Client[] = [];

async function setup(c: pg.Client) {
  if (cfg.mode === "skiplocked") {
    await c.query(`DROP TABLE IF EXISTS ref_queue;
      CREATE TABLE ref_queue (id bigserial PRIMARY KEY, status smallint NOT NULL DEFAULT 0,
        started_at timestamptz, finished_at timestamptz);
      CREATE INDEX ref_queue_pending ON ref_queue (id) WHERE status = 0;`);
    await c.query("INSERT INTO ref_queue (status) SELECT 0 FROM generate_series(1, $1)", [cfg.jobs]);
    await c.query("VACUUM ANALYZE ref_queue");
  } else {
    await c.query(`DROP TABLE IF EXISTS ref_rows;
      CREATE TABLE ref_rows (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);`);
    await c.query("INSERT INTO ref_rows (id) SELECT g FROM generate_series(1, $1) g", [ROWS]);
    await c.query("VACUUM ANALYZE ref_rows");
  }
}

async function updateLoop(c: pg.Client, batch: number, until: number): Promise<number> {
  let rows = 0;
  while (performance.now() < until) {
    if (batch === 1) {
      await c.query({ name: "u1", text: "UPDATE ref_rows SET n = n + 1 WHERE id = $1", values: [1 + Math.floor(Math.random() * ROWS)] });
    } else {
      const start = 1 + Math.floor(Math.random() * (ROWS - batch));
      const ids = Array.from({ length: batch }, (_, i) => start + i);
      await c.query({ name: "u100", text: "UPDATE ref_rows SET n = n + 1 WHERE id = ANY($1::int[])", values: [ids] });
    }
    rows += batch;
  }
  return rows;
}

async function queueLoop(c: pg.Client): Promise<number> {
  let rows = 0;
  for (;;) {
    const claimed = await c.query<{ id: string }>({
      name: "claim",
      text: `UPDATE ref_queue SET status = 1, started_at = now()
             WHERE id IN (SELECT id FROM ref_queue WHERE status = 0 ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED)
             RETURNING id`,
    });
    if (claimed.rowCount === 0) return rows;
    await c.query({
      name: "complete",
      text: "UPDATE ref_queue SET status = 2, finished_at = now() WHERE id = ANY($1::bigint[])",
      values: [claimed.rows.map((r) => r.id)],
    });
    rows += claimed.rowCount ?? 0;
  }
}

childMain<SystemResult>(
  async () => {
    clients = await Promise.all(
      Array.from({ length: cfg.clients }, async () => {
        const c = new pg.Client({ connectionString: cfg.url });
        await c.connect();
        return c;
      }),
    );
    await setup(clients[0]!);
  },
  async () => {
    const sampler = new ResourceSampler();
    sampler.begin();
    const t0 = performance.now();
    const until = t0 + cfg.durationMs;
    const counts = await Promise.all(
      clients.map((c) => (cfg.mode === "skiplocked" ? queueLoop(c) : updateLoop(c, cfg.mode === "update1" ? 1 : 100, until))),
    );
    const seconds = (performance.now() - t0) / 1000;
    const use = sampler.end();
    const rows = counts.reduce((a, b) => a + b, 0);
    const statements = cfg.mode === "update100" ? rows / 100 : cfg.mode === "skiplocked" ? rows / 25 : rows;
    await Promise.all(clients.map((c) => c.end()));
    return {
      jobs: rows,
      seconds: round(seconds, 3),
      perSecond: round(rows / seconds),
      ...use,
      extra: { statementsPerSecond: round(statements / seconds) },
      notes: `${cfg.clients} clients`,
    };
  },
);
