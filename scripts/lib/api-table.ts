// The route table of docs/api.md, generated from the route registry (lib/api/routes.ts): every route
// under /api in registry order, its summary, where docs/ says more, and who may call it. The routes
// under /api/batch, /batch and /v1 have documents of their own, linked below the table.
import { API_ROUTES, type Access, type ApiOperation } from "@/lib/api/routes";
import { committedSection, writeSection } from "./generated-section";

export const API_TABLE_FILE = "docs/api.md";
export const API_TABLE_COMMAND = "npx tsx --conditions=react-server scripts/api-table.ts --write";
const START = `<!-- api-table:start: generated from lib/api/routes.ts by \`${API_TABLE_COMMAND}\`; do not edit by hand -->`;
const END = "<!-- api-table:end -->";
const SECTION = { file: API_TABLE_FILE, start: START, end: END };

const WHO: Record<Access, string> = { read: "read", write: "write", admin: "admin", public: "anyone", secret: "worker secret" };

/** The routes docs/api.md lists: /api, without the embedding jobs of /api/batch (docs/embedding-jobs-api.md). */
export const inApiTable = (op: ApiOperation) => op.path.startsWith("/api/") && !op.path.startsWith("/api/batch/");

export function renderApiTable(): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
  const rows = API_ROUTES.filter(inApiTable).map((op) => {
    const what = op.docs ? `${op.summary} (${op.docs})` : op.summary;
    return `| \`${op.method.toUpperCase()} ${op.path}\` | ${cell(what)} | ${WHO[op.scope]} |`;
  });
  return ["| route | what it does | who may call it |", "| --- | --- | --- |", ...rows].join("\n");
}

/** The table as committed between the markers, or null when the markers are missing. */
export function committedApiTable(root = process.cwd()): string | null {
  return committedSection(SECTION, root);
}

export function writeApiTable(root = process.cwd()): boolean {
  return writeSection(SECTION, renderApiTable(), root);
}
