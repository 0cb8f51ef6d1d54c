// `npm start` and `npm run dev`: one command that runs the whole product (./lib/serve.ts): the
// embedded PostgreSQL when DATABASE_URL is unset, migrations, a build when the build is missing or
// older than the sources (start only), then Next.js with the in-process worker.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { allowedHosts, getConfig, listenHost } from "@/lib/config";
import { buildState } from "./lib/build-state";
import { serve } from "./lib/serve";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const root = process.cwd();
const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
const nextServer = path.join(root, "scripts", "next-server.mjs");
const log = (line: string) => console.log(`[batchboard] ${line}`);

function buildIfStale() {
  const state = buildState(root);
  if (state === "current") return;
  log(state === "stale" ? "sources changed since the last build: building" : "no production build yet: building (first start only)");
  const r = spawnSync(process.execPath, [nextBin, "build"], { stdio: "inherit", env: process.env });
  if (r.status !== 0) {
    log("the build failed");
    process.exit(r.status ?? 1);
  }
}

async function main() {
  const { PORT, BATCHBOARD_TRUST_PROXY } = getConfig();
  const host = listenHost();
  await serve({
    server: [nextServer, mode, JSON.stringify({ port: PORT, host: host ?? null, allowedHosts: allowedHosts(), trustProxy: BATCHBOARD_TRUST_PROXY })],
    port: PORT,
    beforeServer: mode === "start" ? buildIfStale : undefined,
    log,
  });
}

main().catch((err) => {
  console.error(`[batchboard] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
