// `npm run test:e2e`: Playwright against the built app, in a real Chromium.
// Finds a browser first (scripts/chromium.mjs) so a machine without one gets one clear line, not a stack.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { findChromium } from "./chromium.mjs";

const browser = findChromium();
if (!browser) {
  console.error(
    "No Chromium found for the e2e tests: install one (Debian/Ubuntu: `sudo apt-get install chromium`; elsewhere: `npx playwright install chromium`) or set PLAYWRIGHT_CHROMIUM_EXECUTABLE.",
  );
  process.exit(1);
}
// every run starts on a new embedded database
const dataDir = process.env.E2E_DATA_DIR || ".data/e2e";
rmSync(dataDir, { recursive: true, force: true });
rmSync(`${dataDir}-auth`, { recursive: true, force: true });
const r = spawnSync(process.execPath, ["node_modules/@playwright/test/cli.js", "test", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, E2E_DATA_DIR: dataDir, PLAYWRIGHT_CHROMIUM_EXECUTABLE: browser.executablePath ?? "" },
});
process.exit(r.status ?? 1);
