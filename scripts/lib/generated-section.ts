// A generated section of a committed document: the text between a start and an end marker, read to
// check it and rewritten from its source (docs/api.md's route table, docs/operations.md's env table).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface GeneratedSection {
  /** the document, relative to the repository root */
  file: string;
  start: string;
  end: string;
}

/** The section as committed between the markers, or null when the markers are missing. */
export function committedSection(section: GeneratedSection, root = process.cwd()): string | null {
  const text = readFileSync(path.join(root, section.file), "utf8");
  const start = text.indexOf(section.start);
  const end = text.indexOf(section.end);
  if (start < 0 || end < start) return null;
  return text.slice(start + section.start.length, end).trim();
}

/** Rewrites the section with `body`; false when it already held it. */
export function writeSection(section: GeneratedSection, body: string, root = process.cwd()): boolean {
  const file = path.join(root, section.file);
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(section.start);
  const end = text.indexOf(section.end);
  if (start < 0 || end < start) throw new Error(`${section.file}: the markers ${section.start} and ${section.end} are missing`);
  const next = `${text.slice(0, start + section.start.length)}\n${body}\n${text.slice(end)}`;
  if (next === text) return false;
  writeFileSync(file, next);
  return true;
}
