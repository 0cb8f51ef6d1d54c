// A provider's batch tier on 127.0.0.1 for tests: OpenAI's files + batches endpoints under /openai/v1
// and Anthropic's message batches under /anthropic/v1. A batch ends on the poll after `pollsToEnd`
// polls (or when the test ends, cancels or expires it); each request's answer comes from `answer`:
//   { status_code, body }        an OpenAI response line (Anthropic: status 200 -> succeeded, else errored)
//   { error: { code, message } } an OpenAI error line (Anthropic: errored with that type)
//   "garbage"                    a line that is not JSON
//   "omit"                       no line at all for this request
// Requests are recorded (path, headers) so tests can check what was sent and with which key. OpenAI's
// GET /batches lists the batches newest first, a page at a time (limit, after, has_more).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ProviderBatchSpec } from "@/lib/flows/provider-batch/run";

export type MockAnswer = { status_code: number; body: unknown } | { error: { code: string; message: string } } | "garbage" | "omit";
export interface MockRequestLine {
  custom_id: string;
  body: Record<string, unknown>;
}
type State = "in_progress" | "cancelling" | "completed" | "cancelled" | "expired" | "failed";

interface MockBatch {
  id: string;
  provider: "openai" | "anthropic";
  requests: MockRequestLine[];
  state: State;
  polls: number;
  /** OpenAI: the endpoint its requests go to */
  endpoint?: string;
  metadata?: unknown;
  createdAt: number;
  /** custom ids that got an answer before a cancel or an expiry (the first `answeredBeforeEnd` requests) */
  answeredBeforeEnd: number;
}

export interface ProviderBatchesMock {
  openaiUrl: string;
  anthropicUrl: string;
  seen: { method: string; path: string; headers: IncomingMessage["headers"] }[];
  batches: Map<string, MockBatch>;
  files: Map<string, string>;
  /** polls before a batch ends by itself (default 1: the second poll sees it ended); Infinity: never */
  pollsToEnd: number;
  answer: (line: MockRequestLine) => MockAnswer;
  /** ends a batch as expired: the first `answered` requests answered, the rest expired */
  expire(id: string, answered?: number): void;
  /**
   * OpenAI: the next this many POST /batches create their batch and then drop the connection without
   * an answer (the provider took the batch; the caller cannot know)
   */
  loseCreateAnswers: number;
  /** OpenAI: POST /batches waits this long before it creates its batch (a slow provider) */
  createDelayMs: number;
  /**
   * OpenAI: POST /batches creates its batch at once, then waits this long before it answers
   * (Infinity: never, the connection stays open: the provider took the batch, its answer is on the way)
   */
  answerDelayMs: number;
  /**
   * Called for every POST before it is handled: a promise returned holds the request until it settles
   * (the provider is slow to take it), then it is handled as usual, even if its caller gave up meanwhile
   */
  hold: ((method: string, path: string) => Promise<void> | null) | null;
  /**
   * Per custom_id, how many times a batch holding it was created while another batch holding it was
   * still live at the provider (neither ended nor cancelling): the provider ran it twice
   */
  overlaps: Map<string, number>;
  /** makes an OpenAI batch fail validation */
  failValidation(id: string, message: string): void;
  close(): Promise<void>;
}

const now = () => Math.floor(Date.now() / 1000);

/** `port`: listen there (0, the default: any free port) */
export async function startProviderBatchesMock(options: { port?: number } = {}): Promise<ProviderBatchesMock> {
  const seen: ProviderBatchesMock["seen"] = [];
  const batches = new Map<string, MockBatch>();
  const files = new Map<string, string>();
  let nextId = 1;
  let base = "";
  const mock: ProviderBatchesMock = {
    openaiUrl: "",
    anthropicUrl: "",
    seen,
    batches,
    files,
    pollsToEnd: 1,
    loseCreateAnswers: 0,
    createDelayMs: 0,
    answerDelayMs: 0,
    hold: null,
    overlaps: new Map(),
    answer: (line) => ({ status_code: 200, body: { echo: line.body } }),
    expire(id, answered = 0) {
      const b = batches.get(id)!;
      b.state = "expired";
      b.answeredBeforeEnd = answered;
    },
    failValidation(id, message) {
      const b = batches.get(id)!;
      b.state = "failed";
      (b as MockBatch & { failure?: string }).failure = message;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  /** the answered and the unanswered requests of an ended batch */
  function split(b: MockBatch): { answered: MockRequestLine[]; rest: MockRequestLine[] } {
    const n = b.state === "completed" ? b.requests.length : b.answeredBeforeEnd;
    return { answered: b.requests.slice(0, n), rest: b.requests.slice(n) };
  }

  function advance(b: MockBatch) {
    b.polls++;
    if (b.state === "cancelling") b.state = "cancelled";
    else if (b.state === "in_progress" && b.polls > mock.pollsToEnd) b.state = "completed";
  }

  function openaiFiles(b: MockBatch): { output?: string; error?: string } {
    const out: string[] = [];
    const err: string[] = [];
    const { answered, rest } = split(b);
    for (const line of answered) {
      const a = mock.answer(line);
      if (a === "omit") continue;
      if (a === "garbage") out.push(`{"custom_id": "${line.custom_id}", "response": {`);
      else if ("error" in a) err.push(JSON.stringify({ id: `r${nextId++}`, custom_id: line.custom_id, response: null, error: a.error }));
      else (a.status_code < 300 ? out : err).push(JSON.stringify({ id: `r${nextId++}`, custom_id: line.custom_id, response: { status_code: a.status_code, request_id: `req_${line.custom_id}`, body: a.body }, error: null }));
    }
    const code = b.state === "expired" ? "batch_expired" : "batch_cancelled";
    for (const line of rest) err.push(JSON.stringify({ id: `r${nextId++}`, custom_id: line.custom_id, response: null, error: { code, message: `This request could not be executed before the batch ${b.state === "expired" ? "expired" : "was cancelled"}.` } }));
    const files_: { output?: string; error?: string } = {};
    if (out.length) files.set((files_.output = `file-out-${b.id}`), out.join("\n") + "\n");
    if (err.length) files.set((files_.error = `file-err-${b.id}`), err.join("\n") + "\n");
    return files_;
  }

  function openaiBatch(b: MockBatch) {
    const ended = ["completed", "cancelled", "expired", "failed"].includes(b.state);
    const f = ended && b.state !== "failed" ? openaiFiles(b) : {};
    const { answered } = split(b);
    const failed = ended ? b.requests.length - answered.filter((l) => { const a = mock.answer(l); return typeof a === "object" && "status_code" in a && a.status_code < 300; }).length : 0;
    return {
      id: b.id,
      object: "batch",
      endpoint: b.endpoint ?? "/v1/chat/completions",
      status: b.state,
      input_file_id: `file-in-${b.id}`,
      output_file_id: f.output ?? null,
      error_file_id: f.error ?? null,
      created_at: b.createdAt,
      expires_at: b.createdAt + 86400,
      request_counts: { total: b.requests.length, completed: ended ? b.requests.length - failed : 0, failed },
      metadata: b.metadata ?? null,
      errors: b.state === "failed" ? { object: "list", data: [{ code: "invalid_request", message: (b as MockBatch & { failure?: string }).failure, line: 1 }] } : null,
    };
  }

  function anthropicResults(b: MockBatch): string {
    const lines: string[] = [];
    const { answered, rest } = split(b);
    for (const line of answered) {
      const a = mock.answer(line);
      if (a === "omit") continue;
      if (a === "garbage") lines.push(`{"custom_id": "${line.custom_id}", "result": `);
      else if ("error" in a) lines.push(JSON.stringify({ custom_id: line.custom_id, result: { type: "errored", error: { type: "error", error: { type: a.error.code, message: a.error.message } } } }));
      else if (a.status_code < 300) lines.push(JSON.stringify({ custom_id: line.custom_id, result: { type: "succeeded", message: a.body } }));
      else lines.push(JSON.stringify({ custom_id: line.custom_id, result: { type: "errored", error: { type: "error", error: { type: "invalid_request_error", message: `status ${a.status_code}` } } } }));
    }
    for (const line of rest) lines.push(JSON.stringify({ custom_id: line.custom_id, result: { type: b.state === "expired" ? "expired" : "canceled" } }));
    return lines.join("\n") + "\n";
  }

  function anthropicBatch(b: MockBatch) {
    const ended = b.state !== "in_progress" && b.state !== "cancelling";
    return {
      id: b.id,
      type: "message_batch",
      processing_status: ended ? "ended" : b.state === "cancelling" ? "canceling" : "in_progress",
      request_counts: ended
        ? { processing: 0, succeeded: split(b).answered.length, errored: 0, canceled: b.state === "cancelled" ? split(b).rest.length : 0, expired: b.state === "expired" ? split(b).rest.length : 0 }
        : { processing: b.requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      created_at: new Date().toISOString(),
      expires_at: new Date(Date.now() + 86400_000).toISOString(),
      results_url: ended ? `${base}/anthropic/v1/messages/batches/${b.id}/results` : null,
    };
  }

  function send(res: ServerResponse, status: number, body: unknown, type = "application/json") {
    res.writeHead(status, { "content-type": type });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  }

  /** a new batch: counts, per request, the batches still live at the provider that hold it too */
  function created(b: MockBatch) {
    const live = [...batches.values()].filter((o) => o !== b && o.state === "in_progress");
    for (const r of b.requests) {
      if (live.some((o) => o.requests.some((x) => x.custom_id === r.custom_id))) mock.overlaps.set(r.custom_id, (mock.overlaps.get(r.custom_id) ?? 0) + 1);
    }
  }

  function handle(req: IncomingMessage, body: Buffer, res: ServerResponse) {
    const path = (req.url ?? "").split("?")[0]!;
    const held = req.method === "POST" && !(req as { held?: boolean }).held ? mock.hold?.(req.method, path) : null;
    if (held) {
      (req as { held?: boolean }).held = true;
      void held.then(() => handle(req, body, res));
      return;
    }
    seen.push({ method: req.method ?? "", path, headers: req.headers });
    let m: RegExpMatchArray | null;
    // OpenAI
    if (req.method === "POST" && path === "/openai/v1/files") {
      const text = body.toString("utf8");
      const purpose = /name="purpose"\r\n\r\n([^\r]*)/.exec(text)?.[1];
      const content = /filename="[^"]*"\r\ncontent-type: [^\r]*\r\n\r\n([\s\S]*)\r\n--[^\r\n]*--\r\n$/.exec(text)?.[1];
      if (purpose !== "batch" || content === undefined) return send(res, 400, { error: { message: "expected purpose=batch and a file" } });
      const id = `file-${nextId++}`;
      files.set(id, content);
      return send(res, 200, { id, object: "file", purpose: "batch", bytes: content.length, filename: "input.jsonl" });
    }
    if (req.method === "POST" && path === "/openai/v1/batches" && mock.createDelayMs > 0 && !(req as { delayed?: boolean }).delayed) {
      (req as { delayed?: boolean }).delayed = true;
      seen.pop(); // recorded once, when it is handled
      setTimeout(() => handle(req, body, res), mock.createDelayMs);
      return;
    }
    if (req.method === "POST" && path === "/openai/v1/batches") {
      const { input_file_id, endpoint, metadata } = JSON.parse(body.toString("utf8")) as { input_file_id: string; endpoint: string; metadata?: unknown };
      if (metadata !== undefined && (typeof metadata !== "object" || metadata === null || Object.values(metadata).some((v) => typeof v !== "string"))) {
        return send(res, 400, { error: { message: "metadata: a map of strings" } });
      }
      const input = files.get(input_file_id);
      if (input === undefined) return send(res, 404, { error: { message: "no such file" } });
      const requests = input.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { custom_id: string; url: string; body: Record<string, unknown> });
      if (requests.some((r) => r.url !== endpoint)) return send(res, 400, { error: { message: "a line's url differs from the batch's endpoint" } });
      const b: MockBatch = { id: `batch_${nextId++}`, provider: "openai", requests: requests.map((r) => ({ custom_id: r.custom_id, body: r.body })), state: "in_progress", polls: 0, endpoint, metadata, createdAt: now(), answeredBeforeEnd: 0 };
      created(b);
      batches.set(b.id, b);
      if (mock.loseCreateAnswers > 0) {
        mock.loseCreateAnswers--;
        res.destroy();
        return;
      }
      if (mock.answerDelayMs === Infinity) return;
      if (mock.answerDelayMs > 0) {
        setTimeout(() => send(res, 200, openaiBatch(b)), mock.answerDelayMs);
        return;
      }
      return send(res, 200, openaiBatch(b));
    }
    if (req.method === "GET" && path === "/openai/v1/batches") {
      // newest first, `limit` a page (default 20, at most 100), `after` the last id of the page before
      const q = new URL(req.url ?? "", "http://x").searchParams;
      const limit = Math.min(100, Number(q.get("limit") ?? 20));
      const all = [...batches.values()].filter((b) => b.provider === "openai").reverse();
      const after = q.get("after");
      const from = after ? all.findIndex((b) => b.id === after) + 1 : 0;
      const page = all.slice(from, from + limit);
      return send(res, 200, { object: "list", data: page.map(openaiBatch), first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: from + limit < all.length });
    }
    if ((m = /^\/openai\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path))) {
      const b = batches.get(decodeURIComponent(m[1]!));
      if (!b) return send(res, 404, { error: { message: "no such batch" } });
      if (m[2]) {
        if (b.state === "in_progress") b.state = "cancelling";
      } else advance(b);
      return send(res, 200, openaiBatch(b));
    }
    if (req.method === "GET" && (m = /^\/openai\/v1\/files\/([^/]+)\/content$/.exec(path))) {
      const f = files.get(decodeURIComponent(m[1]!));
      return f === undefined ? send(res, 404, { error: { message: "no such file" } }) : send(res, 200, f, "application/jsonl");
    }
    // Anthropic
    if (req.method === "POST" && path === "/anthropic/v1/messages/batches") {
      const { requests } = JSON.parse(body.toString("utf8")) as { requests: { custom_id: string; params: Record<string, unknown> }[] };
      const b: MockBatch = { id: `msgbatch_${nextId++}`, provider: "anthropic", requests: requests.map((r) => ({ custom_id: r.custom_id, body: r.params })), state: "in_progress", polls: 0, createdAt: now(), answeredBeforeEnd: 0 };
      created(b);
      batches.set(b.id, b);
      return send(res, 200, anthropicBatch(b));
    }
    if ((m = /^\/anthropic\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/.exec(path))) {
      const b = batches.get(decodeURIComponent(m[1]!));
      if (!b) return send(res, 404, { type: "error", error: { type: "not_found_error", message: "no such batch" } });
      if (m[2] === "/results") return send(res, 200, anthropicResults(b), "application/x-jsonl");
      if (m[2] === "/cancel") {
        if (b.state === "in_progress") b.state = "cancelling";
      } else advance(b);
      return send(res, 200, anthropicBatch(b));
    }
    send(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mock.openaiUrl = `${base}/openai/v1`;
  mock.anthropicUrl = `${base}/anthropic/v1`;
  return mock;
}

/** A chat-completions provider batch at `mock`'s OpenAI surface: each record's `n` as its request body, the response body as its result. */
export function openaiSpecAt(mock: ProviderBatchesMock): ProviderBatchSpec {
  return {
    provider: "openai",
    baseUrl: mock.openaiUrl,
    apiKeyEnv: undefined,
    endpoint: "/v1/chat/completions",
    timeoutMs: 5000,
    body: async (r) => ({ n: (r.data as { n: number }).n }),
    result: (response) => response.body,
  };
}
