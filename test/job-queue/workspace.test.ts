// Paths a client names stay inside the workspace: `..`, absolute paths, NUL bytes and symbolic links
// leading out are refused; links that stay inside, and files not written yet, are fine.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PathRefused, resolveInWorkspace } from "@/lib/job-queue/workspace";

const base = realpathSync(mkdtempSync(path.join(tmpdir(), "bb-ws-")));
const root = path.join(base, "ws");
const outside = path.join(base, "outside");
mkdirSync(path.join(root, "src"), { recursive: true });
mkdirSync(outside);
writeFileSync(path.join(root, "src", "a.py"), "print(1)\n");
writeFileSync(path.join(outside, "secret.txt"), "s3cret\n");
symlinkSync(outside, path.join(root, "out-link"));
symlinkSync(path.join(outside, "secret.txt"), path.join(root, "secret-link"));
symlinkSync(path.join(root, "src"), path.join(root, "src-link"));
symlinkSync(path.join(outside, "not-yet.txt"), path.join(root, "dangling"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const refused = (rel: string) => {
  try {
    resolveInWorkspace(root, rel);
  } catch (err) {
    expect(err).toBeInstanceOf(PathRefused);
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(rel)} was not refused`);
};

describe("resolveInWorkspace", () => {
  it("resolves relative paths inside the workspace, existing or not, through links that stay inside", () => {
    expect(resolveInWorkspace(root, "src/a.py")).toBe(path.join(root, "src", "a.py"));
    expect(resolveInWorkspace(root, "src/")).toBe(path.join(root, "src"));
    expect(resolveInWorkspace(root, ".")).toBe(root);
    expect(resolveInWorkspace(root, "./src/./a.py")).toBe(path.join(root, "src", "a.py"));
    expect(resolveInWorkspace(root, "output/new/result.txt")).toBe(path.join(root, "output", "new", "result.txt"));
    expect(resolveInWorkspace(root, "src-link/a.py")).toBe(path.join(root, "src", "a.py"));
  });

  it("refuses `..` anywhere, even when it would land inside", () => {
    expect(refused("../outside/secret.txt")).toContain("..");
    expect(refused("src/../../outside")).toContain("..");
    expect(refused("src/../src/a.py")).toContain("..");
    expect(refused("src\\..\\..\\x")).toContain("..");
  });

  it("refuses absolute paths, inside the workspace or not", () => {
    expect(refused("/etc/passwd")).toContain("absolute");
    expect(refused(path.join(root, "src", "a.py"))).toContain("absolute");
    expect(refused("C:\\Windows\\win.ini")).toContain("absolute");
  });

  it("refuses NUL bytes, empty paths and option-like paths", () => {
    expect(refused("src/a.py\0.txt")).toContain("NUL");
    expect(refused("")).toContain("empty");
    expect(refused("-rf")).toContain("option");
  });

  it("refuses symbolic links leading out, to a directory, a file or nowhere", () => {
    expect(refused("out-link")).toContain("outside the workspace");
    expect(refused("out-link/secret.txt")).toContain("outside the workspace");
    expect(refused("out-link/new-file.txt")).toContain("outside the workspace");
    expect(refused("secret-link")).toContain("outside the workspace");
    expect(refused("dangling")).toContain("symbolic link");
  });
});
