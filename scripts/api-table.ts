// `npx tsx --conditions=react-server scripts/api-table.ts`: prints docs/api.md's route table generated
// from the route registry (lib/api/routes.ts); with `--write`, replaces the one in docs/api.md
// (test/docs/api-table.test.ts compares them). The react-server condition lets the registry's
// server-only schema modules load outside Next.js.
import { API_TABLE_FILE, renderApiTable, writeApiTable } from "./lib/api-table";

if (process.argv.includes("--write")) {
  console.log(writeApiTable() ? `${API_TABLE_FILE}: route table updated` : `${API_TABLE_FILE}: already up to date`);
} else {
  console.log(renderApiTable());
}
