// The product speaks of Batchboard only: its code, docs, API text and end-to-end specs never name the documents it
// grew from or the project's own issue tracker.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const PRODUCT = ["README.md", "docs", "app", "lib", "components", "prisma", "scripts", "proxy.ts", "instrumentation.ts", "next.config.ts", "bench/README.md", "bench/results/HISTORY.md", "e2e"];
const SKIP_DIRS = new Set(["node_modules", "generated"]);
const TEXT = /\.(ts|tsx|mts|mjs|js|md|json|css|sql|prisma)$/;
const FORBIDDEN: [RegExp, string][] = [
  [/Buttermilk/i, "Buttermilk"],
  [/SOLLOL/i, "SOLLOL"],
  [/Ollama Coder/i, "Ollama Coder"],
  [/BatchExecutor/i, "BatchExecutor"],
  [/BatchManager/i, "BatchManager"],
  [/the seeds/i, "the seeds"],
  [/\bissue #?[0-9]/i, "an issue number"],
  [/DEVELOPERS\.md/i, "DEVELOPERS.md"],
];

function files(rel: string): string[] {
  const full = path.join(root, rel);
  if (!statSync(full, { throwIfNoEntry: false })) return [];
  if (!statSync(full).isDirectory()) return TEXT.test(rel) ? [rel] : [];
  return readdirSync(full).flatMap((name) => (SKIP_DIRS.has(name) ? [] : files(path.join(rel, name))));
}

describe("product text", () => {
  it("never names the seed documents or the project's issues", () => {
    const all = PRODUCT.flatMap(files);
    expect(all.length).toBeGreaterThan(100);
    const hits: string[] = [];
    for (const file of all) {
      readFileSync(path.join(root, file), "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const [pattern, what] of FORBIDDEN) if (pattern.test(line)) hits.push(`${file}:${i + 1} names ${what}: ${line.trim().slice(0, 120)}`);
        });
    }
    expect(hits, "write about Batchboard itself: the history belongs in commit messages").toEqual([]);
  });
});
