// Slow uploads must not starve everyone. Twenty uploads trickling a line every half second (far below
// the minimum rate) run while the API is asked and the in-process worker runs a batch: both keep
// answering, each slow upload is dropped with 408 and the standard error body, and nothing of it is
// left in the database. An upload that stalls after a good start is dropped too; one at a sound rate
// is not; a JSON body trickled to any route is bounded the same way.
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { useTestDatabase } from "../helpers/db";
import { loadApiRoutes, type ApiRoute } from "../helpers/routes";
import { call, isErrorBody } from "./call";

process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_UPLOAD_IDLE_TIMEOUT_MS = "1000";
process.env.BATCHBOARD_UPLOAD_MIN_BYTES_PER_SECOND = "200";
useTestDatabase();

let routes: ApiRoute[];
let worker: WorkerHandle;
beforeAll(async () => {
  routes = await loadApiRoutes();
  worker = await startWorker({ mode: "in-process", pollMs: 50, log: () => {} });
});
afterAll(async () => {
  await worker?.stop(1000);
});

/** A body that sends `lines` JSONL lines, one every `everyMs`, then ends. */
function trickle(lines: number, everyMs: number, firstBurst = 0): ReadableStream<Uint8Array> {
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= lines) return controller.close();
      if (sent >= firstBurst) await new Promise((r) => (timer = setTimeout(r, everyMs)));
      controller.enqueue(new TextEncoder().encode(`{"id":"r${sent}","text":"record number ${sent}"}\n`));
      sent++;
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

async function send(pattern: string, query: string, body: ReadableStream<Uint8Array>, contentType: string) {
  const route = routes.find((r) => r.pattern === pattern)!;
  const request = new NextRequest(`http://localhost:3000${pattern}?${query}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
    // a streamed request body: undici needs duplex "half", which the type does not declare
    duplex: "half",
  } as unknown as ConstructorParameters<typeof NextRequest>[1]);
  const res = await route.handlers.POST!(request, { params: Promise.resolve({}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const upload = (name: string, body: ReadableStream<Uint8Array>) => send("/api/datasets", `name=${name}&format=jsonl`, body, "application/x-ndjson");

async function leftOf(prefix: string) {
  const { rows } = await getPool().query<{ datasets: number; records: number }>(
    `SELECT (SELECT count(*)::int FROM datasets WHERE name LIKE $1) AS datasets,
            (SELECT count(*)::int FROM dataset_records r JOIN datasets d ON d.id = r.dataset_id WHERE d.name LIKE $1) AS records`,
    [`${prefix}%`],
  );
  return rows[0]!;
}

describe("slow uploads", () => {
  it("twenty trickling uploads are dropped with 408 while the API and the worker keep answering", async () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ id: `j${i}` }));
    const batch = await createBatch({ flow: "echo", parameters: { delay_ms: 20 }, concurrency: 4, source: { kind: "records", records, recordIdField: "id" } });
    let uploadsRunning = true;
    const probes: { status: number; ms: number }[] = [];
    const probing = (async () => {
      while (uploadsRunning) {
        for (const [pattern, query] of [["/api/health", ""], ["/api/batches", "limit=5"]] as const) {
          const t0 = performance.now();
          const res = await call("GET", pattern, { query });
          probes.push({ status: res.status, ms: performance.now() - t0 });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    let batchDoneWhileUploading = false;
    const watching = (async () => {
      while (uploadsRunning) {
        if ((await getBatch(batch.id)).status === "completed") {
          batchDoneWhileUploading = true;
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => upload(`slow-${i}`, trickle(60, 500))));
    uploadsRunning = false;
    await Promise.all([probing, watching]);

    expect(results.map((r) => r.status)).toEqual(Array(20).fill(408));
    for (const r of results) {
      expect(isErrorBody(r.json)).toBe(true);
      expect(r.json.error.code).toBe("request_timeout");
    }
    expect(await leftOf("slow-")).toEqual({ datasets: 0, records: 0 });
    expect(probes.filter((p) => p.status !== 200)).toEqual([]);
    expect(batchDoneWhileUploading, "the in-process worker finished its batch while the uploads ran").toBe(true);
    const slowest = Math.max(...probes.map((p) => p.ms));
    // the symptom was health at 503 and the list taking over 8 s for as long as the uploads ran
    expect(slowest).toBeLessThan(5_000);
    console.log(`20 slow uploads dropped in ${Date.now() - started} ms; ${probes.length} API answers, slowest ${Math.round(slowest)} ms`);
  });

  it("an upload that stalls after a good start is dropped, and nothing of it stays", async () => {
    const res = await upload("stalls", trickle(1000, 5_000, 200));
    expect(res.status).toBe(408);
    expect(res.json.error.message).toMatch(/BATCHBOARD_UPLOAD/);
    expect(await leftOf("stalls")).toEqual({ datasets: 0, records: 0 });
  });

  it("an upload at a sound rate is imported", async () => {
    // ~45 bytes every 50 ms: about 900 B/s against a minimum of 200
    const res = await upload("steady", trickle(60, 50));
    expect(res.status).toBe(201);
    expect(res.json.record_count).toBe(60);
  });

  it("a JSON body trickled to POST /api/batches is dropped the same way", async () => {
    const chunks = ['{"flow":"echo",', '"records":["a",', '"b"],', '"shuffle":false}'];
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i >= chunks.length) return controller.close();
        await new Promise((r) => setTimeout(r, 1_500));
        controller.enqueue(new TextEncoder().encode(chunks[i++]));
      },
    });
    const res = await send("/api/batches", "", body, "application/json");
    expect(res.status).toBe(408);
    expect(res.json.error.code).toBe("request_timeout");
  });
});
