// POST /api/worker/run: the bounded worker for cron deployments, behind a bearer secret.
// (config is read once per process, so this file sets the secret before anything reads it)
process.env.BATCHBOARD_WORKER_SECRET = "test-worker-secret-0123456789";

import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { POST } from "@/app/api/worker/run/route";
import { createBatch, getBatch } from "@/lib/engine";
// not a React hook: the name only says it hooks into beforeAll/afterAll
import { useTestDatabase as withTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";

withTestDatabase();
registerTestFlows();

function post(body: unknown, auth?: string) {
  return POST(
    new NextRequest("http://localhost/api/worker/run", {
      method: "POST",
      headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

describe("POST /api/worker/run", () => {
  it("refuses a missing or wrong secret with the standard error body", async () => {
    for (const auth of [undefined, "Bearer nope", "test-worker-secret-0123456789"]) {
      const res = await post({}, auth);
      expect(res.status).toBe(401);
      const body = await res.json();
      expect(body.error.code).toBe("unauthorized");
      expect(Array.isArray(body.error.details)).toBe(true);
    }
  });

  it("validates the body", async () => {
    const res = await post({ max_ms: "soon" }, "Bearer test-worker-secret-0123456789");
    expect(res.status).toBe(422);
    expect((await res.json()).error.details[0].path).toBe("max_ms");
    const bad = await POST(
      new NextRequest("http://localhost/api/worker/run", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer test-worker-secret-0123456789" },
        body: "{not json",
      }),
    );
    expect(bad.status).toBe(400);
  });

  it("processes jobs for about max_ms and reports how many", async () => {
    const b = await createBatch({
      flow: "t-echo",
      source: { kind: "records", records: ["a", "b", "c", "d", "e"], recordIdField: "id" },
    });
    const res = await post({ max_ms: 3000 }, "Bearer test-worker-secret-0123456789");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ processed: 5 });
    const done = await getBatch(b.id);
    expect(done.status).toBe("completed");
    expect(done.succeeded).toBe(5);
  });
});
