// Fails when prisma/schema.prisma (the model) and the database our migrations build drift apart:
// tables, columns, types, nullability, enums, the model's indexes and its foreign keys.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "./helpers/db";

const require = createRequire(import.meta.url);
const wasm = require("@prisma/prisma-schema-wasm") as { get_dmmf(params: string): string };

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object";
  type: string;
  isList: boolean;
  isRequired: boolean;
  nativeType?: [string, string[]] | null;
  default?: { name: string } | unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface DmmfModel { name: string; dbName: string | null; fields: DmmfField[] }
interface DmmfIndex { model: string; type: "id" | "unique" | "normal" | "fulltext"; fields: { name: string; sortOrder?: "asc" | "desc" }[] }
interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: { name: string; dbName: string | null; values: { name: string; dbName: string | null }[] }[];
    indexes: DmmfIndex[];
  };
}

const dmmf = JSON.parse(
  wasm.get_dmmf(JSON.stringify({ prismaSchema: readFileSync("prisma/schema.prisma", "utf8") })),
) as Dmmf;
const enumDbName = new Map(dmmf.datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
const tableOf = (m: DmmfModel) => m.dbName ?? m.name;
const columnOf = (f: DmmfField) => f.dbName ?? f.name;

/** the PostgreSQL type Prisma gives a scalar field, as pg_catalog.format_type prints it */
function expectedType(f: DmmfField): string {
  if (f.kind === "enum") return `"${enumDbName.get(f.type)}"`.replace(/^"([a-z_][a-z0-9_]*)"$/, "$1");
  const native = f.nativeType;
  let base: string;
  if (native) {
    const [name, args] = native;
    const map: Record<string, string> = { Timestamptz: "timestamp with time zone", Timestamp: "timestamp without time zone", Text: "text" };
    base = map[name] ?? name.toLowerCase();
    if (args.length && name.startsWith("Timestamp")) base = base.replace("timestamp", `timestamp(${args[0]})`);
  } else {
    const map: Record<string, string> = {
      String: "text",
      Int: "integer",
      BigInt: "bigint",
      Float: "double precision",
      Boolean: "boolean",
      DateTime: "timestamp(3) without time zone",
      Json: "jsonb",
      Decimal: "numeric(65,30)",
      Bytes: "bytea",
    };
    base = map[f.type]!;
  }
  return f.isList ? `${base}[]` : base;
}

describe("schema.prisma and the migrated database", () => {
  const db = useTestDatabase();
  let client: pg.Client;
  let columns: Map<string, { type: string; notNull: boolean }>;
  let tables: Set<string>;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: db().url });
    await client.connect();
    const t = await client.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> '_prisma_migrations'`,
    );
    tables = new Set(t.rows.map((r) => r.relname));
    const c = await client.query<{ table: string; column: string; type: string; notnull: boolean }>(
      `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
    );
    columns = new Map(c.rows.map((r) => [`${r.table}.${r.column}`, { type: r.type, notNull: r.notnull }]));
  });
  afterAll(async () => client?.end());

  it("has exactly the model's tables", () => {
    expect([...tables].sort()).toEqual(dmmf.datamodel.models.map(tableOf).sort());
  });

  it("has every field as a column of the right type and nullability, and no column the model lacks", () => {
    const expected: string[] = [];
    for (const model of dmmf.datamodel.models) {
      for (const f of model.fields) {
        if (f.kind === "object") continue;
        const key = `${tableOf(model)}.${columnOf(f)}`;
        expected.push(key);
        const col = columns.get(key);
        expect(col, `column ${key}`).toBeDefined();
        expect(col!.type, `type of ${key}`).toBe(expectedType(f));
        // Prisma renders scalar lists as nullable columns
        if (!f.isList) expect(col!.notNull, `nullability of ${key}`).toBe(f.isRequired);
      }
    }
    const actual = [...columns.keys()].filter((k) => tables.has(k.split(".")[0]!));
    expect(actual.sort()).toEqual(expected.sort());
  });

  it("has the model's enums with the same values", async () => {
    const { rows } = await client.query<{ name: string; values: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS values
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    const actual = Object.fromEntries(rows.map((r) => [r.name, r.values]));
    const expected = Object.fromEntries(
      dmmf.datamodel.enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)]),
    );
    expect(actual).toEqual(expected);
  });

  it("has every index the model declares, with its columns, order and uniqueness", async () => {
    const { rows } = await client.query<{ table: string; def: string; unique: boolean; primary: boolean; partial: boolean }>(
      `SELECT c.relname AS table, pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS unique,
              i.indisprimary AS primary, i.indpred IS NOT NULL AS partial
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public'`,
    );
    const signature = (def: string) => def.slice(def.indexOf("(") + 1, def.lastIndexOf(")")).replace(/"/g, "");
    for (const index of dmmf.datamodel.indexes) {
      const model = dmmf.datamodel.models.find((m) => m.name === index.model)!;
      const cols = index.fields.map((f) => {
        const field = model.fields.find((x) => x.name === f.name)!;
        return `${columnOf(field)}${f.sortOrder === "desc" ? " DESC" : ""}`;
      });
      const want = cols.join(", ");
      const match = rows.find(
        (r) =>
          r.table === tableOf(model) &&
          !r.partial &&
          signature(r.def) === want &&
          (index.type === "id" ? r.primary : index.type === "unique" ? r.unique : true),
      );
      expect(match, `${index.type} index on ${tableOf(model)}(${want})`).toBeDefined();
    }
  });

  it("has the model's foreign keys with their ON DELETE actions", async () => {
    const { rows } = await client.query<{ table: string; def: string }>(
      `SELECT c.relname AS table, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'f'`,
    );
    let count = 0;
    for (const model of dmmf.datamodel.models) {
      for (const f of model.fields) {
        if (f.kind !== "object" || !f.relationFromFields?.length) continue;
        count++;
        const target = dmmf.datamodel.models.find((m) => m.name === f.type)!;
        const from = f.relationFromFields.map((n) => columnOf(model.fields.find((x) => x.name === n)!)).join(", ");
        const to = f.relationToFields!.map((n) => columnOf(target.fields.find((x) => x.name === n)!)).join(", ");
        const onDelete = (f.relationOnDelete ?? (f.isRequired ? "Restrict" : "SetNull")).replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase();
        const fk = rows.find((r) => r.table === tableOf(model) && r.def.startsWith(`FOREIGN KEY (${from}) REFERENCES ${tableOf(target)}(${to})`));
        expect(fk, `foreign key ${tableOf(model)}(${from}) -> ${tableOf(target)}(${to})`).toBeDefined();
        expect(fk!.def, `ON DELETE of ${tableOf(model)}(${from})`).toContain(`ON DELETE ${onDelete}`);
      }
    }
    expect(rows.length).toBe(count);
  });

  /** Every (index, column) pair where the index covers the column or filters on it. */
  async function indexedColumns(table: string) {
    const { rows } = await client.query<{ index: string; column: string }>(
      `SELECT ic.relname AS index, a.attname AS column
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0
        -- (string literals out of the predicate first: 'running' is a value there, not the column)
        AND (a.attnum = ANY(i.indkey)
             OR regexp_replace(pg_get_expr(i.indpred, i.indrelid), '''[^'']*''', '', 'g') ~ ('\\m' || a.attname || '\\M')
             OR pg_get_expr(i.indexprs, i.indrelid) ~ ('\\m' || a.attname || '\\M'))
       WHERE t.relname = $1`,
      [table],
    );
    return rows;
  }

  // The engine's speed rests on job updates being HOT (heap-only, no index writes): that holds only
  // while no index on jobs covers, or filters on, a column the claim or the completion changes.
  it("indexes on jobs cover only columns that never change after insert", async () => {
    const rows = await indexedColumns("jobs");
    expect(rows.length).toBeGreaterThan(0);
    const immutable = new Set(["id", "batch_id", "record_id", "ordinal", "position"]);
    expect(rows.filter((r) => !immutable.has(r.column))).toEqual([]);
    const ff = await client.query<{ opts: string[] | null }>(`SELECT reloptions AS opts FROM pg_class WHERE relname = 'jobs'`);
    expect(ff.rows[0]!.opts).toContain("fillfactor=30");
  });

  // Every worker cycle updates its batches' row: the same holds for batches, whose only index on a
  // column that changes is the claim's partial index on active batches (status changes a few times
  // in a batch's life).
  it("indexes on batches cover no column a worker cycle changes", async () => {
    const rows = await indexedColumns("batches");
    const moving = new Set(["pending", "running", "waiting_input", "succeeded", "failed", "cancelled", "skipped", "cost_spent",
      "claim_cursor", "last_claimed_at", "updated_at", "started_at"]);
    expect(rows.some((r) => r.index === "batches_active_idx")).toBe(true);
    expect(rows.filter((r) => moving.has(r.column))).toEqual([]);
    const ff = await client.query<{ opts: string[] | null }>(`SELECT reloptions AS opts FROM pg_class WHERE relname = 'batches'`);
    expect(ff.rows[0]!.opts).toContain("fillfactor=50");
  });

  // Every index on jobs is written once per job at ingest, and one whose key does not follow the run
  // order (jobs go in shuffled) costs ~0.5 s per 100,000 jobs: jobs are found by record id through
  // dataset_records' (dataset_id, record_id) index, not one of their own (lib/engine/jobs.ts).
  it("indexes jobs only by id, run order and source position (one job per position)", async () => {
    const { rows } = await client.query<{ def: string; unique: boolean }>(
      `SELECT substring(pg_get_indexdef(i.indexrelid) FROM 'USING btree \\((.*)\\)$') AS def, i.indisunique AS unique
       FROM pg_index i WHERE i.indrelid = 'jobs'::regclass`,
    );
    expect(rows.map((r) => `${r.unique ? "unique " : ""}(${r.def})`).sort()).toEqual([
      'unique (batch_id, "position")',
      "unique (batch_id, ordinal)",
      "unique (id)",
    ]);
  });
});
