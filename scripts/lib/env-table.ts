// The environment table of docs/operations.md, generated from lib/config.ts: the variables in their
// declared order, each one's doc comment as its meaning and its schema default (or its @default tag).
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { CONFIG_VARIABLES, configDefaults } from "@/lib/config";
import { committedSection, writeSection } from "./generated-section";

export const ENV_TABLE_FILE = "docs/operations.md";
export const ENV_TABLE_COMMAND = "npx tsx scripts/env-table.ts --write";
const START = `<!-- env-table:start: generated from lib/config.ts by \`${ENV_TABLE_COMMAND}\`; do not edit by hand -->`;
const END = "<!-- env-table:end -->";
const SECTION = { file: ENV_TABLE_FILE, start: START, end: END };

interface Declared {
  name: string;
  meaning: string;
  defaultTag?: string;
}

/** Each property of the `configSchema = z.object({...})` literal with its doc comment. */
function readDeclarations(source: string): Declared[] {
  const file = ts.createSourceFile("config.ts", source, ts.ScriptTarget.Latest, true);
  let literal: ts.ObjectLiteralExpression | undefined;
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && node.name.getText(file) === "configSchema" && node.initializer) {
      const call = node.initializer;
      if (ts.isCallExpression(call) && call.arguments[0] && ts.isObjectLiteralExpression(call.arguments[0])) {
        literal = call.arguments[0];
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (!literal) throw new Error("lib/config.ts: no `const configSchema = z.object({...})` found");
  return literal.properties.map((property) => {
    const name = property.name?.getText(file) ?? "?";
    const doc = ts.getJSDocCommentsAndTags(property).find(ts.isJSDoc);
    const meaning = ts.getTextOfJSDocComment(doc?.comment)?.replace(/\s+/g, " ").trim();
    if (!meaning) throw new Error(`lib/config.ts: ${name} has no doc comment saying what it means`);
    const tag = doc?.tags?.find((t) => t.tagName.text === "default");
    const defaultTag = ts.getTextOfJSDocComment(tag?.comment)?.replace(/\s+/g, " ").trim();
    return { name, meaning, defaultTag };
  });
}

function formatDefault(name: string, value: unknown): string {
  if (value === undefined) return "unset";
  if (typeof value === "boolean") return value ? "`1`" : "`0`";
  if (typeof value === "number" && name.endsWith("_BYTES")) {
    const units: [number, string][] = [[2 ** 30, "GiB"], [2 ** 20, "MiB"], [2 ** 10, "KiB"]];
    const unit = units.find(([size]) => value % size === 0);
    return unit ? `\`${value}\` (${value / unit[0]} ${unit[1]})` : `\`${value}\``;
  }
  return `\`${String(value)}\``;
}

export function renderEnvTable(root = process.cwd()): string {
  const declared = readDeclarations(readFileSync(path.join(root, "lib/config.ts"), "utf8"));
  const names = declared.map((d) => d.name).join(",");
  if (names !== CONFIG_VARIABLES.join(",")) throw new Error(`lib/config.ts: the parsed declarations (${names}) differ from the schema`);
  const defaults = configDefaults() as Record<string, unknown>;
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  const rows = declared.map((d) => `| \`${d.name}\` | ${cell(d.defaultTag ?? formatDefault(d.name, defaults[d.name]))} | ${cell(d.meaning)} |`);
  return ["| variable | default | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

/** The table as committed between the markers, or null when the markers are missing. */
export function committedEnvTable(root = process.cwd()): string | null {
  return committedSection(SECTION, root);
}

export function writeEnvTable(root = process.cwd()): boolean {
  return writeSection(SECTION, renderEnvTable(root), root);
}
