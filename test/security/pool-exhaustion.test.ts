// Fifty batch creations at once, with one Idempotency-Key or fifty, must all be answered within
// seconds, make exactly one batch per key, and leave /api/health answering 200 throughout, and the
// list of batches (which needs the main pool) answering too. (Each used to hold a pooled connection
// while waiting for a second: the pool ran dry and the whole server hung until restarted.)
import { afterEach, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch } from "@/lib/engine";
import { useTestDatabase } from "../helpers/db";
import { call } from "./call";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

/** No answer within this long counts as hung (the pool waits 5 s at most for a connection). */
const ANSWER_WITHIN_MS = 30_000;

async function answered<T>(p: Promise<T>): Promise<T | "no answer"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"no answer">((r) => (timer = setTimeout(() => r("no answer"), ANSWER_WITHIN_MS)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asks /api/health and GET /api/batches every 100 ms until stopped; returns the statuses seen (a
 * hung probe counts as 0), health's and the list's.
 */
function watchHealth() {
  const seen: number[] = [];
  let stop = false;
  const probe = async (pattern: string, query?: string) => {
    while (!stop) {
      const res = await answered(call("GET", pattern, { query }));
      seen.push(res === "no answer" ? 0 : res.status);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const loops = Promise.all([probe("/api/health"), probe("/api/batches", "limit=1")]);
  return async () => {
    stop = true;
    await loops;
    return seen;
  };
}

const body = (tag: string) => ({ flow: "echo", records: Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, tag })), shuffle: false });

async function batchCount(tag: string): Promise<number> {
  const { rows } = await getPool().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM batches b JOIN dataset_records r ON r.dataset_id = b.dataset_id AND r.position = 0 WHERE r.data->>'tag' = $1`,
    [tag],
  );
  return rows[0]!.n;
}

describe("fifty concurrent creates", () => {
  let stopHealth: (() => Promise<number[]>) | undefined;
  afterEach(async () => {
    await stopHealth?.();
  });

  it("with one Idempotency-Key: all answered, one batch, health 200 throughout", async () => {
    stopHealth = watchHealth();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => answered(call("POST", "/api/batches", { body: body("same-key"), headers: { "idempotency-key": "same" } }))),
    );
    const took = Date.now() - started;
    const health = await stopHealth();
    stopHealth = undefined;
    const statuses = results.map((r) => (r === "no answer" ? r : r.status));
    expect(statuses.filter((s) => s !== 201), `answers: ${statuses.join(" ")}`).toEqual([]);
    const ids = new Set(results.map((r) => (r === "no answer" ? null : r.json.id)));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r !== "no answer" && r.headers.get("idempotent-replayed") === "true")).toHaveLength(49);
    expect(await batchCount("same-key")).toBe(1);
    expect(health.filter((s) => s !== 200), `health: ${health.join(" ")}`).toEqual([]);
    console.log(`50 creates with one key: all answered in ${took} ms; health and the list asked ${health.length} times, all 200`);
  });

  it("with fifty keys: all answered, fifty batches, health 200 throughout", async () => {
    stopHealth = watchHealth();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => answered(call("POST", "/api/batches", { body: body("many-keys"), headers: { "idempotency-key": `key-${i}` } }))),
    );
    const took = Date.now() - started;
    const health = await stopHealth();
    stopHealth = undefined;
    const statuses = results.map((r) => (r === "no answer" ? r : r.status));
    expect(statuses.filter((s) => s !== 201), `answers: ${statuses.join(" ")}`).toEqual([]);
    expect(new Set(results.map((r) => (r === "no answer" ? null : r.json.id))).size).toBe(50);
    expect(await batchCount("many-keys")).toBe(50);
    expect(health.filter((s) => s !== 200), `health: ${health.join(" ")}`).toEqual([]);
    console.log(`50 creates with 50 keys: all answered in ${took} ms; health and the list asked ${health.length} times, all 200`);
  });

  it("large inline batches (records and jobs on two connections) at once: all created, health 200", async () => {
    stopHealth = watchHealth();
    const records = Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, tag: "two-connections" }));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => answered(createBatch({ flow: "echo", source: { kind: "records", records, recordIdField: "id" } }, { parallelInlineMin: 1 }))),
    );
    const health = await stopHealth();
    stopHealth = undefined;
    expect(results.map((r) => (r.status === "fulfilled" ? (r.value === "no answer" ? r.value : "created") : String(r.reason)))).toEqual(Array(20).fill("created"));
    expect(await batchCount("two-connections")).toBe(20);
    expect(health.filter((s) => s !== 200), `health: ${health.join(" ")}`).toEqual([]);
  });
});
