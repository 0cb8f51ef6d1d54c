// `prisma generate`, run on install. The Prisma CLI insists on finding a native schema-engine binary
// before any command, and downloads one when it is missing; generate itself never runs it (the client
// is built by WebAssembly). Where no schema engine is installed we point the CLI at an existing file
// so it does not try to download one from a host that may be unreachable.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const env = { ...process.env, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const cli = require.resolve("prisma/build/index.js");
const r = spawnSync(process.execPath, [cli, "generate"], { stdio: "inherit", env });
process.exit(r.status ?? 1);
