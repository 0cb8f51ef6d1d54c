// The HTTP server of `npm start` and `npm run dev`: Next.js through its programmatic API, behind a
// plain node:http server so every request first passes scripts/lib/edge.mjs (the socket address
// for the auth throttle and rate limits, forwarding headers, the Host check) and the listening
// interface is ours to choose. Settings come from scripts/serve.ts, which reads lib/config.ts.
// usage: node scripts/next-server.mjs <start|dev> '{"port":3000,"host":null,"allowedHosts":null,"trustProxy":false}'
import http from "node:http";
import { admit } from "./lib/edge.mjs";

const dev = process.argv[2] === "dev";
// the name `next start` gives its process, which process listings and the soak test look for
process.title = "next-server (batchboard)";
const options = JSON.parse(process.argv[3] ?? "{}");
process.env.NODE_ENV = dev ? "development" : "production";
const { default: next } = await import("next");

let handle;
const server = http.createServer((req, res) => {
  const refusal = admit(req, options);
  if (refusal) {
    res.writeHead(refusal.status, { "content-type": "application/json" }).end(refusal.body);
    return;
  }
  void handle(req, res);
});
const app = next({ dev, dir: process.cwd(), hostname: options.host ?? "localhost", port: options.port, httpServer: server });
await app.prepare();
handle = app.getRequestHandler();
server.listen(options.port, options.host ?? undefined, () => {
  const address = server.address();
  console.log(`[batchboard] listening on ${typeof address === "string" ? address : `${address.address}:${address.port}`}`);
});
