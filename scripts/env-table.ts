// `npx tsx scripts/env-table.ts`: prints the environment table generated from lib/config.ts;
// with `--write`, replaces the one in docs/operations.md (test/docs/env-table.test.ts compares them).
import { ENV_TABLE_FILE, renderEnvTable, writeEnvTable } from "./lib/env-table";

if (process.argv.includes("--write")) {
  console.log(writeEnvTable() ? `${ENV_TABLE_FILE}: environment table updated` : `${ENV_TABLE_FILE}: already up to date`);
} else {
  console.log(renderEnvTable());
}
