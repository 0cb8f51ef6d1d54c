// Paths inside the operator's workspace (BATCHBOARD_WORKSPACE_DIR): a path a client names is relative,
// has no `..` segment and no NUL byte, and resolves, symlinks followed, to a place inside the
// workspace. Checked when a job is submitted and again when each item runs (a symlink may change).
import { lstatSync, realpathSync } from "node:fs";
import path from "node:path";
import { getConfig } from "@/lib/config";

export class PathRefused extends Error {
  override name = "PathRefused";
}

/** The workspace root, symlinks resolved; null when the operator configured none (or it is not a directory). */
export function workspaceRoot(): string | null {
  const dir = getConfig().BATCHBOARD_WORKSPACE_DIR;
  if (!dir) return null;
  try {
    return realpathSync(path.resolve(dir));
  } catch {
    return null;
  }
}

const inside = (root: string, p: string) => p === root || p.startsWith(`${root}${path.sep}`);

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (a file not yet written). */
function realOrAncestor(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(realpathSync(cur), ...rest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" && (err as NodeJS.ErrnoException).code !== "ENOTDIR") throw err;
      // a link to nowhere: writing through it would create its target, wherever that is
      if (isSymlink(cur)) throw new PathRefused("dangling");
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      rest.unshift(path.basename(cur));
      cur = parent;
    }
  }
}

/** Why `rel` cannot name a place in the workspace, or null when it can. */
export function pathProblem(rel: string): string | null {
  if (rel.includes("\0")) return "must not contain a NUL byte";
  if (rel.trim() === "") return "must not be empty";
  if (path.isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel) || rel.startsWith("\\")) return "must be relative to the workspace, not absolute";
  if (rel.split(/[\\/]+/).includes("..")) return "must not contain `..`";
  if (rel.startsWith("-")) return "must not start with `-` (it would read as an option)";
  return null;
}

/** The absolute path of `rel` inside `root`; throws PathRefused when it is not one (symlinks followed). */
export function resolveInWorkspace(root: string, rel: string): string {
  const problem = pathProblem(rel);
  if (problem) throw new PathRefused(`path ${JSON.stringify(rel)} ${problem}`);
  const joined = path.resolve(root, rel);
  if (!inside(root, joined)) throw new PathRefused(`path ${JSON.stringify(rel)} is outside the workspace`);
  let real: string;
  try {
    real = realOrAncestor(joined);
  } catch (err) {
    if (err instanceof PathRefused) throw new PathRefused(`path ${JSON.stringify(rel)} leads through a symbolic link to nowhere (a write would create its target wherever it points)`);
    throw err;
  }
  if (!inside(root, real)) throw new PathRefused(`path ${JSON.stringify(rel)} leads outside the workspace (through a symbolic link)`);
  return real;
}
