// Every relative link in README.md and the docs points at a file that exists, and a link to a
// heading of a Markdown file at a heading it has (GitHub's anchors).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

function markdownFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) return markdownFiles(rel);
    return name.endsWith(".md") ? [rel] : [];
  });
}

/** Links outside fenced code blocks and inline code. */
function links(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "``");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

function anchors(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/^```[\s\S]*?^```/gm, "");
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)));
}

describe("documentation links", () => {
  const files = ["README.md", "bench/README.md", ...markdownFiles("docs"), ...markdownFiles("bench/results")];

  it("resolve to files and headings that exist", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const link of links(readFileSync(path.join(root, file), "utf8"))) {
        if (/^[a-z]+:/i.test(link)) continue; // https:, mailto:
        const [target, anchor] = link.split("#") as [string, string | undefined];
        const resolved = target ? path.resolve(path.dirname(path.join(root, file)), decodeURIComponent(target)) : path.join(root, file);
        checked++;
        if (!existsSync(resolved)) {
          broken.push(`${file}: ${link} (no such file)`);
        } else if (anchor && resolved.endsWith(".md") && !anchors(resolved).has(anchor)) {
          broken.push(`${file}: ${link} (no heading #${anchor})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });
});
