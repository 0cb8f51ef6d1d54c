// A unified diff of two texts, line by line (what `diff -u` prints for one file), for the agent
// flow's result. Common leading and trailing lines are set aside first; the rest is compared by
// longest common subsequence, or, past LCS_CELLS, shown as replaced whole (a model rewriting a
// large file is shown correctly, only less compactly).

const CONTEXT = 3;
const LCS_CELLS = 4_000_000;

type Op = { kind: " " | "-" | "+"; line: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function middleOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || n * m > LCS_CELLS) {
    return [...a.map((line) => ({ kind: "-" as const, line })), ...b.map((line) => ({ kind: "+" as const, line }))];
  }
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..]
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) {
      ops.push({ kind: "-", line: a[i++]! });
    } else {
      ops.push({ kind: "+", line: b[j++]! });
    }
  }
  while (i < n) ops.push({ kind: "-", line: a[i++]! });
  while (j < m) ops.push({ kind: "+", line: b[j++]! });
  return ops;
}

function lineOps(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  return [
    ...a.slice(0, start).map((line) => ({ kind: " " as const, line })),
    ...middleOps(a.slice(start, endA), b.slice(start, endB)),
    ...a.slice(endA).map((line) => ({ kind: " " as const, line })),
  ];
}

const range = (start: number, count: number) => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);

/** The hunks of a unified diff from `before` to `after` (no header lines); "" when they are equal. */
export function unifiedHunks(before: string, after: string): string {
  if (before === after) return "";
  const ops = lineOps(splitLines(before), splitLines(after));
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.kind === " ") {
      k++;
      continue;
    }
    // a hunk: CONTEXT lines before the change, and it goes on while changes are within 2*CONTEXT lines
    const from = Math.max(0, k - CONTEXT);
    let to = k;
    let lastChange = k;
    while (to < ops.length && to - lastChange <= 2 * CONTEXT) {
      if (ops[to]!.kind !== " ") lastChange = to;
      to++;
    }
    const end = Math.min(ops.length, lastChange + CONTEXT + 1);
    let aStart = 1;
    let bStart = 1;
    for (let x = 0; x < from; x++) {
      if (ops[x]!.kind !== "+") aStart++;
      if (ops[x]!.kind !== "-") bStart++;
    }
    const hunk = ops.slice(from, end);
    const aCount = hunk.filter((o) => o.kind !== "+").length;
    const bCount = hunk.filter((o) => o.kind !== "-").length;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    k = end;
  }
  return `${out.join("\n")}\n`;
}

/** One file's unified diff with its `---`/`+++` header; null `before` is a new file, null `after` a deleted one. */
export function fileDiff(path: string, before: string | null, after: string | null): string {
  const hunks = unifiedHunks(before ?? "", after ?? "");
  if (before !== null && after !== null && hunks === "") return "";
  return `--- ${before === null ? "/dev/null" : `a/${path}`}\n+++ ${after === null ? "/dev/null" : `b/${path}`}\n${hunks}`;
}
