// The worker cycle's statement (cycle.sql beside this module: its parameters, stages and what each
// guarantees are commented there, and it runs as it is in psql). lib/engine/cycle.ts builds its
// parameters from a worker's outcomes and claim request and turns its rows into jobs and batch states.
import { readFileSync } from "node:fs";
import type { Queryable } from "./queryable";

// read once, at module load; a URL relative to this module, which the Next.js build copies with it
const CYCLE_SQL = readFileSync(new URL("./cycle.sql", import.meta.url), "utf8");

/** Runs the cycle with `values` in the order of cycle.sql's parameter list, as one prepared statement. */
export async function cycleStatement<Row extends object>(db: Queryable, values: readonly unknown[]): Promise<Row[]> {
  const { rows } = await db.query<Row>({ name: "batchboard_cycle", text: CYCLE_SQL, values: [...values] });
  return rows;
}
