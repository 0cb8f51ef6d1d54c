// A local HTTP server standing in for outside APIs: each request gets the next queued reply.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

type FixedReply =
  | { status?: number; headers?: Record<string, string>; json?: unknown; text?: string }
  | "hang"; // never answer (timeouts, aborts)
/** a fixed reply, or one made from the request (a scripted conversation) */
export type Reply = FixedReply | ((request: SeenRequest) => FixedReply);

export interface TestServer {
  url: string;
  requests: SeenRequest[];
  /** queue replies, used in order; the last one repeats */
  reply(...replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  let queue: Reply[] = [{ json: {} }];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(seen);
      const next = queue.length > 1 ? queue.shift()! : queue[0]!;
      const reply = typeof next === "function" ? next(seen) : next;
      if (reply === "hang") return;
      const body = reply.text ?? JSON.stringify(reply.json ?? null);
      res.writeHead(reply.status ?? 200, { "content-type": reply.text !== undefined ? "text/plain" : "application/json", ...reply.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (...replies) => {
      queue = replies;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
