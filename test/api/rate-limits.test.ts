// rate_limit through the API: accepted shapes, the 422s naming the field, an operator's declared
// keys (BATCHBOARD_RATE_LIMITS), the live figures on GET /api/batches/{id}, and Run again keeping it.
import { afterEach, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { sweepRetention } from "@/lib/engine/maintenance";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

const base = { flow: "echo", records: [{ id: "a" }, { id: "b" }], shuffle: false };

afterEach(() => {
  delete process.env.BATCHBOARD_RATE_LIMITS;
});

describe("rate_limit on POST /api/batches", () => {
  it.each([
    [{ requests_per_minute: 600, nope: 1 }, "rate_limit.nope"],
    [{ requests_per_minute: 0 }, "rate_limit.requests_per_minute"],
    [{ requests_per_minute: -5 }, "rate_limit.requests_per_minute"],
    [{ tokens_per_minute: 2.5 }, "rate_limit.tokens_per_minute"],
    [{ requests_per_minute: "600" }, "rate_limit.requests_per_minute"],
    [{ key: "k".repeat(201), requests_per_minute: 60 }, "rate_limit.key"],
    [{ key: "has space", requests_per_minute: 60 }, "rate_limit.key"],
    [{ key: "batch:someone-else", requests_per_minute: 60 }, "rate_limit.key"],
    [{}, "rate_limit"],
    [{ key: "nobody:declared" }, "rate_limit.key"],
  ])("refuses %j with a 422 naming %s", async (rateLimit, path) => {
    const res = await createBatch({ ...base, rate_limit: rateLimit });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("validation_failed");
    expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it("a batch's own limit: shown with its rates, shared with nobody", async () => {
    const res = await createBatch({ ...base, rate_limit: { requests_per_minute: 600, tokens_per_minute: 200000 } });
    expect(res.status).toBe(201);
    expect(res.json.options.rate_limit).toEqual({ requests_per_minute: 600, tokens_per_minute: 200000 });
    const got = await api("GET", "/api/batches/[id]", { params: { id: res.json.id } });
    expect(got.json.rate_limit).toMatchObject({
      key: null,
      requests_per_minute: 600,
      tokens_per_minute: 200000,
      current_requests_per_minute: 600,
      current_tokens_per_minute: 200000,
      paused_until: null,
      shared_with: 0,
    });
    expect(typeof got.json.rate_limit.recent_requests_per_minute).toBe("number");
    expect(typeof got.json.rate_limit.waiting).toBe("boolean");
    const plain = await createBatch(base);
    expect((await api("GET", "/api/batches/[id]", { params: { id: plain.json.id } })).json.rate_limit).toBeNull();
  });

  it("a declared key: a batch naming only the key gets the operator's rates, and cannot raise them", async () => {
    process.env.BATCHBOARD_RATE_LIMITS = JSON.stringify({ "openai:gpt-4o-mini": { requests_per_minute: 500, tokens_per_minute: 200000 } });
    const first = await createBatch({ ...base, parameters: { delay_ms: 60_000 }, rate_limit: { key: "openai:gpt-4o-mini" } });
    expect(first.status).toBe(201);
    const second = await createBatch({ ...base, parameters: { delay_ms: 60_000 }, rate_limit: { key: "openai:gpt-4o-mini", requests_per_minute: 5000 } });
    expect(second.status).toBe(201);
    const third = await createBatch({ ...base, parameters: { delay_ms: 60_000 }, rate_limit: { key: "openai:gpt-4o-mini" } });
    const got = await api("GET", "/api/batches/[id]", { params: { id: second.json.id } });
    expect(got.json.rate_limit).toMatchObject({ key: "openai:gpt-4o-mini", requests_per_minute: 500, tokens_per_minute: 200000, shared_with: 2 });
    // a batch asking for less lowers the key while the others run
    await createBatch({ ...base, parameters: { delay_ms: 60_000 }, rate_limit: { key: "openai:gpt-4o-mini", requests_per_minute: 100 } });
    expect((await api("GET", "/api/batches/[id]", { params: { id: third.json.id } })).json.rate_limit).toMatchObject({ requests_per_minute: 100, shared_with: 3 });
  });

  it("Run again keeps the rate limit", async () => {
    const parent = await createBatch({ ...base, rate_limit: { requests_per_minute: 6000, key: "local:m" } });
    expect(parent.status).toBe(201);
    const child = await api("POST", "/api/batches/[id]/clone", { params: { id: parent.json.id }, body: {} });
    expect(child.status).toBe(201);
    expect(child.json.options.rate_limit).toEqual({ requests_per_minute: 6000, key: "local:m" });
    expect(child.json.rate_limit).toMatchObject({ key: "local:m", requests_per_minute: 6000 });
  });

  it("a batch's own limit is deleted with the batch; a shared key stays", async () => {
    const own = await createBatch({ ...base, ttl_seconds: 1, rate_limit: { requests_per_minute: 60 } });
    const shared = await createBatch({ ...base, ttl_seconds: 1, rate_limit: { requests_per_minute: 60, key: "kept:key" } });
    for (const b of [own, shared]) expect((await api("DELETE", "/api/batches/[id]", { params: { id: b.json.id } })).status).toBe(200);
    const keys = async () => (await getPool().query<{ key: string }>(`SELECT key FROM rate_limits WHERE key = ANY($1) ORDER BY key`, [[`batch:${own.json.id}`, "kept:key"]])).rows.map((r) => r.key);
    expect(await keys()).toEqual([`batch:${own.json.id}`, "kept:key"]);
    await waitFor("the batches swept", async () => (await sweepRetention()) > 0 || null, 10_000, 200);
    expect(await keys()).toEqual(["kept:key"]);
  });
});
