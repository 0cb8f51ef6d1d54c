#!/usr/bin/env node
// `npx batchboard`: loads the TypeScript CLI (lib/cli/main.ts) through tsx, so there is no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../lib/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
