// Where is a Chromium for Playwright? An explicit PLAYWRIGHT_CHROMIUM_EXECUTABLE, then the system's
// Chromium (Debian's /usr/bin/chromium), then Playwright's own download where one is installed.
import { existsSync } from "node:fs";
import { chromium } from "@playwright/test";

const SYSTEM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

/** @returns {{ executablePath: string | undefined } | null} undefined: Playwright's own browser */
export function findChromium() {
  const explicit = process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE;
  if (explicit && existsSync(explicit)) return { executablePath: explicit };
  const system = SYSTEM.find((p) => existsSync(p));
  if (system) return { executablePath: system };
  try {
    if (existsSync(chromium.executablePath())) return { executablePath: undefined };
  } catch {
    // no Playwright browser installed
  }
  return null;
}
