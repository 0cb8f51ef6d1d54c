// Dependencies run one way: the worker uses the engine, the engine uses the datasets, never the
// reverse; the API uses the engine, never the reverse; and everything may use the contract
// (lib/contract: statuses and wire schemas, safe in the browser), which uses nothing but zod.
// Read from the source files' import lines (static, re-export and dynamic).
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

function sourceFiles(rel: string): string[] {
  const full = path.join(root, rel);
  if (!statSync(full).isDirectory()) return /\.tsx?$/.test(rel) ? [rel] : [];
  return readdirSync(full).flatMap((name) => sourceFiles(path.join(rel, name)));
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

/** The modules `file` imports, as paths from the repository root (`lib/engine/cycle`), packages as named. */
function importsOf(file: string, text = readFileSync(path.join(root, file), "utf8")): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1]!;
    if (spec.startsWith("@/")) out.push(spec.slice(2));
    else if (spec.startsWith(".")) out.push(path.posix.join(path.posix.dirname(file), spec));
    else out.push(spec);
  }
  return out;
}

/** Files under `from` that import anything under `forbidden`, as "file -> module". */
function violations(from: string, forbidden: string): string[] {
  return sourceFiles(from).flatMap((file) =>
    importsOf(file)
      .filter((m) => m === forbidden || m.startsWith(`${forbidden}/`))
      .map((m) => `${file} -> ${m}`),
  );
}

describe("import direction", () => {
  it("reads static, re-export, dynamic and relative imports", () => {
    const text = [
      `import { a } from "@/lib/worker/worker";`,
      `export { b } from "../worker/worker";`,
      `const c = await import("@/lib/worker/outbox");`,
      `import "server-only";`,
    ].join("\n");
    expect(importsOf("lib/engine/x.ts", text)).toEqual(["lib/worker/worker", "lib/worker/worker", "lib/worker/outbox", "server-only"]);
  });

  it("no lib/engine file imports lib/worker", () => {
    expect(violations("lib/engine", "lib/worker")).toEqual([]);
  });

  it("no lib/datasets file imports lib/engine", () => {
    expect(violations("lib/datasets", "lib/engine")).toEqual([]);
  });

  it("no file under lib/engine, lib/worker, lib/datasets, lib/flows or lib/db imports lib/api", () => {
    const below = ["lib/engine", "lib/worker", "lib/datasets", "lib/flows", "lib/db"];
    expect(below.flatMap((dir) => violations(dir, "lib/api"))).toEqual([]);
  });

  it("lib/contract imports nothing but zod and lib/contract", () => {
    // its tests may use vitest: they are not in any bundle
    const files = sourceFiles("lib/contract").filter((file) => !/\.test\.tsx?$/.test(file));
    const outside = files.flatMap((file) =>
      importsOf(file)
        .filter((m) => m !== "zod" && !m.startsWith("lib/contract/"))
        .map((m) => `${file} -> ${m}`),
    );
    expect(outside).toEqual([]);
  });
});
