// Helpers for the dashboard specs: screenshots into e2e/screenshots/ (gitignored) in both themes.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";

const DIR = path.join(process.cwd(), "e2e", "screenshots");

export async function snap(page: Page, name: string, opts: { fullPage?: boolean } = {}) {
  mkdirSync(DIR, { recursive: true });
  await page.screenshot({ path: path.join(DIR, `${name}.png`), fullPage: opts.fullPage ?? true });
}

export async function setTheme(page: Page, theme: "light" | "dark") {
  await page.evaluate((t) => {
    localStorage.setItem("batchboard-theme", t);
    document.documentElement.dataset.theme = t;
  }, theme);
}
