// `npm run test:e2e`: Playwright against the built app, in a real Chromium.
// Finds a browser first (scripts/chromium.mjs) so a machine without one gets one clear line, not a stack.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { findChromium } from "./chromium.mjs";

const browser = findChromium();
if (!browser) {
  console.error(
    "No Chromium found for the e2e tests: install one (Debian/Ubuntu: `sudo apt-get install chromium`; elsewhere: `npx playwright install chromium`) or set PLAYWRIGHT_CHROMIUM_EXECUTABLE.",
  );
  process.exit(1);
}
/** Stops a PostgreSQL an earlier run left running on `dir` (it runs in a process group of its own). */
async function stopLeftoverPostgres(dir) {
  const pidFile = `${dir}/pg/postmaster.pid`;
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  // a stale pid file may name an unrelated process by now: only a postgres of this cluster is stopped
  const args = spawnSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).stdout ?? "";
  if (!args.includes(path.resolve(dir, "pg"))) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 200 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
}

// every run starts on a new embedded database
const dataDir = process.env.E2E_DATA_DIR || ".data/e2e";
for (const dir of [dataDir, `${dataDir}-auth`]) {
  await stopLeftoverPostgres(dir);
  rmSync(dir, { recursive: true, force: true });
}
const r = spawnSync(process.execPath, ["node_modules/@playwright/test/cli.js", "test", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, E2E_DATA_DIR: dataDir, PLAYWRIGHT_CHROMIUM_EXECUTABLE: browser.executablePath ?? "" },
});
process.exit(r.status ?? 1);
