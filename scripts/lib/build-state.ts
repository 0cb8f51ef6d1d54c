// Is the production build there, and is it newer than every source file it was built from?
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { getConfig } from "@/lib/config";

const SOURCE_DIRS = ["app", "components", "lib"];

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "generated" || entry.name.startsWith(".")) continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function buildIdFile(root = process.cwd()): string {
  return path.join(root, getConfig().NEXT_DIST_DIR, "BUILD_ID");
}

/** "missing", "stale" (sources changed since), or "current". */
export function buildState(root = process.cwd()): "missing" | "stale" | "current" {
  const file = buildIdFile(root);
  if (!existsSync(file)) return "missing";
  const sources = Math.max(...SOURCE_DIRS.map((d) => newestMtime(path.join(root, d))));
  return statSync(file).mtimeMs >= sources ? "current" : "stale";
}
