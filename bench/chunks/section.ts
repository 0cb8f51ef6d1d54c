// Chunked flows: `embed` against a mock /embeddings on 127.0.0.1 that takes 20 ms per request whatever
// its size, one batch at chunk_size 1 and one at chunk_size 100, the same concurrency, each run by one
// worker process on its own database. Records/s side by side, and the target: chunk_size 100 reaches
// at least 20x the records/s of chunk_size 1.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { BenchOptions } from "../lib/args";
import { round, runChild } from "../lib/child";
import type { BenchServer } from "../lib/pg";
import type { Report, Target } from "../lib/report";
import { failedRow } from "../lib/types";

const LATENCY_MS = 20;
const CONCURRENCY = 2;
const SECTION = "chunks";

interface EmbeddingsMock {
  url: string;
  requests: number;
  largest: number;
  close(): Promise<void>;
}

/** An OpenAI-compatible /embeddings answering every request after LATENCY_MS, one vector per input. */
async function startEmbeddingsMock(): Promise<EmbeddingsMock> {
  const mock = { requests: 0, largest: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString() || "{}") as { input?: string | string[] };
      const inputs = Array.isArray(body.input) ? body.input : [String(body.input ?? "")];
      mock.requests++;
      mock.largest = Math.max(mock.largest, inputs.length);
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({
          object: "list",
          model: "bench-embed",
          data: inputs.map((t, index) => ({ object: "embedding", index, embedding: [t.length / 100, 0.5, -0.5, 0.25] })),
          usage: { prompt_tokens: inputs.length * 5, total_tokens: inputs.length * 5 },
        }));
      }, LATENCY_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return mock.requests;
    },
    get largest() {
      return mock.largest;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Measured {
  records: number;
  seconds: number;
  perSecond: number;
  requests: number;
  largest: number;
  failed: number;
}

async function runScenario(pgs: BenchServer, db: string, records: number, chunkSize: number, log: (l: string) => void): Promise<Measured> {
  const mock = await startEmbeddingsMock();
  try {
    const url = await pgs.createDatabase(db);
    const r = await runChild<{ seconds: number; succeeded: number; failed: number }>(
      "chunks/child.ts",
      { url, mockUrl: mock.url, records, chunkSize, concurrency: CONCURRENCY },
      { env: { DATABASE_URL: url, BATCHBOARD_LOAD_DEMO: "0", BATCHBOARD_HTTP_ALLOWLIST: new URL(mock.url).host }, label: `chunks ${db}`, timeoutMs: 10 * 60_000 },
    );
    const m = { records: r.succeeded, seconds: r.seconds, perSecond: r.succeeded / r.seconds, requests: mock.requests, largest: mock.largest, failed: r.failed };
    log(`chunk_size ${chunkSize}: ${m.records} records in ${m.seconds.toFixed(2)} s = ${Math.round(m.perSecond)} records/s, ${m.requests} requests (largest ${m.largest} inputs)`);
    return m;
  } finally {
    await mock.close();
    await pgs.dropDatabase(db).catch(() => {});
  }
}

export async function runChunksSection(pgs: BenchServer, opts: BenchOptions, report: Report, log: (l: string) => void): Promise<Target[]> {
  // about 10 s each at the expected rates (1 record per 20 ms request per slot; 100 per request)
  const sizes = [
    { chunkSize: 1, records: opts.quick ? 300 : 1000 },
    { chunkSize: 100, records: opts.quick ? 6000 : 20_000 },
  ];
  log(`chunks: embed against a mock taking ${LATENCY_MS} ms per request, concurrency ${CONCURRENCY}; chunk_size ${sizes.map((s) => s.chunkSize).join(" vs ")}`);
  const measured = new Map<number, Measured>();
  for (const s of sizes) {
    const setting = `embed, chunk_size ${s.chunkSize}, concurrency ${CONCURRENCY}, ${LATENCY_MS} ms per request`;
    try {
      const m = await runScenario(pgs, `bench_chunks_${s.chunkSize}`, s.records, s.chunkSize, log);
      measured.set(s.chunkSize, m);
      report.rows.push({
        section: SECTION,
        system: "batchboard",
        setting,
        jobs: m.records,
        seconds: round(m.seconds, 2),
        perSecond: round(m.perSecond),
        unit: "records/s",
        notes: [`${m.requests.toLocaleString("en-US")} requests, at most ${m.largest} inputs each`, ...(m.failed ? [`${m.failed} records failed`] : [])].join("; "),
      });
    } catch (err) {
      report.rows.push(failedRow(log, { section: SECTION, system: "batchboard", setting, unit: "records/s" }, err));
    }
  }
  const one = measured.get(1);
  const hundred = measured.get(100);
  const ratio = one && hundred ? hundred.perSecond / one.perSecond : null;
  if (one && hundred) log(`chunks: ${Math.round(one.perSecond)} vs ${Math.round(hundred.perSecond)} records/s = ${ratio!.toFixed(1)}x`);
  return [
    ratio === null
      ? { name: "chunk_size 100 vs 1 (embed, 20 ms per request)", goal: ">= 20x records/s", value: "-", status: "NOT MEASURED" }
      : {
          name: "chunk_size 100 vs 1 (embed, 20 ms per request)",
          goal: ">= 20x records/s",
          value: `${ratio.toFixed(1)}x (${Math.round(one!.perSecond)} vs ${Math.round(hundred!.perSecond)} records/s)`,
          status: ratio >= 20 ? "MET" : "MISSED",
        },
  ];
}
