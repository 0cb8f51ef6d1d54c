// What the statements of lib/db/sql run on: the main pool, or the client of a transaction (withTx,
// lib/db/tx.ts), so a statement joins whichever transaction its caller holds.
import type pg from "pg";

export type Queryable = Pick<pg.ClientBase, "query">;
