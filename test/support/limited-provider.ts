// An OpenAI-compatible provider on 127.0.0.1 that enforces its own rate limits the way paid APIs do:
// a token bucket of R requests a minute and one of T tokens a minute (capacity one second of each,
// full at start), answering 429 beyond them, with Retry-After unless told not to. Used by the rate
// limit tests and the bench's rate-limits section. /chat/completions and /embeddings under any
// prefix; usage: prompt_tokens = the prompt's characters / 4, completion_tokens fixed.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface LimitedProviderOptions {
  requestsPerMinute: number;
  tokensPerMinute?: number;
  /** send Retry-After (seconds until the bucket has room) with a 429; default true */
  retryAfter?: boolean;
  /** answer 429 to the first N requests whatever the buckets say (to test the reaction to one) */
  reject429First?: number;
  /** Retry-After seconds sent with those forced 429s (omitted when retryAfter is false) */
  forcedRetryAfterSeconds?: number;
  completionTokens?: number;
  /** how long each answer takes */
  latencyMs?: number;
}

export interface ProviderRequest {
  /** ms since the provider started (performance.now based) */
  at: number;
  status: number;
  /** the system message, when there is one (the tests tag requests with their batch there) */
  tag: string | null;
  tokens: number;
}

export interface LimitedProvider {
  url: string;
  requests: ProviderRequest[];
  /** ms since start, on the provider's clock */
  now(): number;
  close(): Promise<void>;
}

class Bucket {
  private level: number;
  private at: number;
  constructor(
    private readonly perSecond: number,
    readonly capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.at = now;
  }
  refill(now: number) {
    this.level = Math.min(this.capacity, this.level + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
  }
  has(n: number) {
    return this.level >= Math.min(n, this.capacity);
  }
  take(n: number) {
    this.level -= n;
  }
  /** seconds until n fit */
  secondsFor(n: number) {
    return Math.max(0, (Math.min(n, this.capacity) - this.level) / this.perSecond);
  }
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function promptText(b: Record<string, unknown>): string {
  const messages = b.messages as { content?: unknown }[] | undefined;
  if (Array.isArray(messages)) return messages.map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content))).join("\n");
  return typeof b.input === "string" ? b.input : JSON.stringify(b.input ?? "");
}

export async function startLimitedProvider(opts: LimitedProviderOptions): Promise<LimitedProvider> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const rpm = opts.requestsPerMinute;
  const requests = new Bucket(rpm / 60, Math.max(1, rpm / 60), 0);
  const tpm = opts.tokensPerMinute;
  const tokens = tpm ? new Bucket(tpm / 60, Math.max(1, tpm / 60), 0) : null;
  const completion = opts.completionTokens ?? 10;
  const log: ProviderRequest[] = [];
  let forced = opts.reject429First ?? 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const b = await body(req);
      const at = now();
      const prompt = Math.ceil(promptText(b).length / 4);
      const cost = prompt + completion;
      const messages = b.messages as { role?: string; content?: unknown }[] | undefined;
      const system = Array.isArray(messages) ? messages.find((m) => m.role === "system")?.content : undefined;
      const tag = typeof system === "string" ? system : null;
      requests.refill(at);
      tokens?.refill(at);
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        log.push({ at, status, tag, tokens: status === 200 ? cost : 0 });
        const reply = () => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(JSON.stringify(json));
        };
        if (opts.latencyMs) setTimeout(reply, opts.latencyMs);
        else reply();
      };
      const limited = (seconds: number, forcedSeconds?: number) => {
        const headers: Record<string, string> = {};
        if (opts.retryAfter !== false) headers["retry-after"] = String(forcedSeconds ?? Math.max(0.001, Math.round(seconds * 1000) / 1000));
        send(429, { error: { message: "rate limit reached", type: "requests", code: "rate_limit_exceeded" } }, headers);
      };
      if (forced > 0) {
        forced--;
        return limited(0, opts.forcedRetryAfterSeconds);
      }
      if (!requests.has(1)) return limited(requests.secondsFor(1));
      if (tokens && !tokens.has(cost)) return limited(tokens.secondsFor(cost));
      requests.take(1);
      tokens?.take(cost);
      const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
      if (req.url?.endsWith("/embeddings")) {
        return send(200, { object: "list", model: b.model, data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }], usage });
      }
      send(200, {
        id: "chatcmpl-limited",
        object: "chat.completion",
        model: b.model,
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
        usage,
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests: log,
    now,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
