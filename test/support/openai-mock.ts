// A small OpenAI-compatible upstream on 127.0.0.1 for tests (vitest and e2e): /chat/completions and
// /embeddings under any prefix, answering by the request's model:
//   reject      400 with OpenAI's error body
//   echo-auth   400 whose message repeats the Authorization header (a key must not be stored)
//   down        500 every time (Retry-After: 0)
//   flaky-N     429 (Retry-After: 0) the first N times a given prompt is sent, then 200
//   slow        answers only when the request is aborted (a batch that stays running)
//   anything    200: a chat completion echoing the last message, or an embedding; asked for a
//               json_schema response_format, an instance of the schema whose strings name the
//               request's subject (its file's name, else its prompt)
// Every request is recorded with its path and Authorization header; `key` (per path prefix) makes
// requests without the right Bearer key a 401.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface MockRequest {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

export interface OpenAIMock {
  url: string;
  port: number;
  requests: MockRequest[];
  /** calls seen per prompt (the last message's content, or the embedding input) */
  calls(prompt: string): number;
  close(): Promise<void>;
}

type Part = { type?: string; text?: string; file?: { filename?: string }; image_url?: unknown };

const lastContent = (body: Record<string, unknown>): unknown => {
  const messages = body.messages as { content?: unknown }[] | undefined;
  return Array.isArray(messages) ? messages[messages.length - 1]?.content : body.input ?? body.prompt;
};

// content parts count by their text and file names, not a file's (large) bytes
const promptOf = (body: Record<string, unknown>): string => {
  const last = lastContent(body);
  if (Array.isArray(last)) return (last as Part[]).map((p) => p.text ?? p.file?.filename ?? p.type ?? "").join("\n");
  return typeof last === "string" ? last : JSON.stringify(last ?? null);
};

const subjectOf = (body: Record<string, unknown>): string => {
  const last = lastContent(body);
  const file = Array.isArray(last) ? (last as Part[]).find((p) => p.type === "file")?.file?.filename : undefined;
  return file ?? promptOf(body);
};

/** A value of the JSON schema (the subset structured outputs use): strings say which field and subject. */
export function instanceOf(schema: unknown, subject: string, key = "value"): unknown {
  const s = (schema ?? {}) as { type?: string | string[]; properties?: Record<string, unknown>; items?: unknown; enum?: unknown[] };
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "object":
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, instanceOf(v, subject, k)]));
    case "array":
      return [instanceOf(s.items, subject, key), instanceOf(s.items, subject, key)];
    case "number":
      return 12.5;
    case "integer":
      return 3;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return `${key} of ${subject}`;
  }
}

function answerOf(body: Record<string, unknown>, prompt: string): string {
  const format = body.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  return format?.type === "json_schema" ? JSON.stringify(instanceOf(format.json_schema?.schema, subjectOf(body))) : `echo: ${prompt}`;
}

export async function startOpenAIMock(options: { port?: number; keys?: Record<string, string> } = {}): Promise<OpenAIMock> {
  const requests: MockRequest[] = [];
  const seen = new Map<string, number>();
  let n = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString() || "{}") as Record<string, unknown>;
      } catch {
        // answered below as a 400
      }
      requests.push({ path, authorization: req.headers.authorization, body });
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", "x-request-id": `req_mock_${++n}`, ...headers });
        res.end(JSON.stringify(json));
      };
      const error = (status: number, message: string, type: string, code: string | null = null) =>
        send(status, { error: { message, type, param: null, code } }, status === 429 || status >= 500 ? { "retry-after": "0" } : {});

      const prefix = Object.keys(options.keys ?? {}).find((p) => path.startsWith(p));
      if (prefix && req.headers.authorization !== `Bearer ${options.keys![prefix]}`) return error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
      const model = typeof body.model === "string" ? body.model : "";
      const prompt = promptOf(body);
      const count = (seen.get(prompt) ?? 0) + 1;
      seen.set(prompt, count);
      if (model === "reject") return error(400, `The model '${model}' does not exist`, "invalid_request_error", "model_not_found");
      if (model === "echo-auth") return error(400, `unexpected header: ${req.headers.authorization}`, "invalid_request_error");
      if (model === "down") return error(500, "The server had an error while processing your request.", "server_error");
      const flaky = /^flaky-(\d+)$/.exec(model);
      if (flaky && count <= Number(flaky[1])) return error(429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded");
      if (model === "slow") {
        req.socket.once("close", () => res.destroy());
        return;
      }
      if (path.endsWith("/embeddings")) {
        // an array of inputs gets one embedding each, in order, 3 tokens each
        const inputs = Array.isArray(body.input) ? body.input.map(String) : [prompt];
        const vector = (text: string) => Array.from({ length: 4 }, (_, i) => (text.length + i) / 10);
        return send(200, {
          object: "list",
          data: inputs.map((text, index) => ({ object: "embedding", index, embedding: vector(text) })),
          model,
          usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length },
        });
      }
      if (path.endsWith("/chat/completions")) {
        return send(200, {
          id: `chatcmpl-mock-${n + 1}`,
          object: "chat.completion",
          created: 1_700_000_000,
          model,
          choices: [{ index: 0, message: { role: "assistant", content: answerOf(body, prompt) }, logprobs: null, finish_reason: "stop" }],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        });
      }
      error(404, `Unknown request URL: POST ${path}`, "invalid_request_error", "unknown_url");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    calls: (prompt) => seen.get(prompt) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
