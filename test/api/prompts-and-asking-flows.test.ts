// The API side of the Inbox: a refused answer says who answered, when and what was kept; flows that
// ask a human say so (GET /api/flows), and a batch of one that can only fail every record says so
// when it is created, dry run included.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { api } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

let worker: WorkerHandle;
beforeAll(async () => {
  worker = await startWorker({ mode: "in-process", concurrency: 4, leaseMs: 1000, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker.stop(500);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe("answering a prompt twice", () => {
  it("the second answer is a 409 whose details name who answered, when, and the answer kept", async () => {
    const created = await api("POST", "/api/batches", { body: { flow: "review", records: [{ id: "x", text: "meh" }], interactive: true } });
    expect(created.status).toBe(201);
    const prompt = await waitFor("an open prompt", async () => {
      const r = await api("GET", "/api/prompts", { query: `status=open&batch_id=${created.json.id}` });
      return r.json.items[0] as Json;
    });
    const first = await api("POST", "/api/prompts/[id]/answer", { params: { id: prompt.id }, body: { answer: "negative" } });
    expect(first.status).toBe(200);
    const second = await api("POST", "/api/prompts/[id]/answer", { params: { id: prompt.id }, body: { answer: "neutral" } });
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe("conflict");
    expect(second.json.error.message).toBe(`prompt was already answered by local (auth off) at ${first.json.answered_at}`);
    expect(second.json.error.details).toEqual([
      {
        path: "answer",
        message: second.json.error.message,
        status: "answered",
        answered_by: "local (auth off)",
        answered_at: first.json.answered_at,
        answer: "negative",
      },
    ]);
  });
});

describe("flows that ask a human", () => {
  it("GET /api/flows says which flows ask, and which parameter answers in a batch that is not interactive", async () => {
    const { json } = await api("GET", "/api/flows");
    const byName = new Map<string, Json>(json.items.map((f: Json) => [f.name, f]));
    expect(byName.get("review").asks).toEqual({ default_parameter: "default_label" });
    expect(byName.get("echo").asks).toBeNull();
  });

  it("a dry run of such a flow, not interactive and without a default, warns that every record will fail", async () => {
    const records = [{ id: "a", text: "one" }];
    const bare = await api("POST", "/api/batches", { body: { flow: "review", records, dry_run: true } });
    expect(bare.status).toBe(201);
    expect(bare.json.warnings).toEqual([
      {
        code: "input_required",
        path: "interactive",
        message:
          "every record will fail with input_required: flow review asks a human, and this batch is not interactive and sets no parameters.default_label",
      },
    ]);
    for (const body of [
      { flow: "review", records, dry_run: true, interactive: true },
      { flow: "review", records, dry_run: true, parameters: { default_label: "neutral" } },
      { flow: "echo", records, dry_run: true },
    ]) {
      const ok = await api("POST", "/api/batches", { body });
      expect(ok.status).toBe(201);
      expect(ok.json.warnings, JSON.stringify(body)).toEqual([]);
    }
  });
});
