import { existsSync } from "node:fs";
import path from "node:path";
import type { BenchOptions } from "../lib/args";
import { ROOT } from "../lib/child";
import type { BenchServer } from "../lib/pg";
import type { Report } from "../lib/report";

export function engineAvailable() {
  return existsSync(path.join(ROOT, "lib", "engine", "index.ts"));
}

export async function runEngineSection(_pgs: BenchServer, _opts: BenchOptions, _report: Report, _log: (l: string) => void) {}
