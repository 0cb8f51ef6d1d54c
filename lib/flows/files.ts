// File operations inside the operator's workspace (BATCHBOARD_WORKSPACE_DIR), one per record:
// {type: "read" | "list", path} always; {type: "write", path, content} and {type: "command", command}
// only where command execution is enabled (BATCHBOARD_ENABLE_COMMAND_FLOW=1), as they change the
// machine. Every path is relative and confined to the workspace, symlinks followed (lib/job-queue/workspace.ts).
import { constants } from "node:fs";
import { mkdir, open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { PathRefused, resolveInWorkspace, workspaceRoot } from "@/lib/job-queue/workspace";
import { commandFlowEnabled, runShell } from "./command";
import { defineFlow, FlowError } from "./types";

export const fileOperationSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("read"), path: z.string().min(1) }),
  z.strictObject({ type: z.literal("list"), path: z.string().min(1).default(".") }),
  z.strictObject({ type: z.literal("write"), path: z.string().min(1), content: z.string() }),
  z.strictObject({ type: z.literal("command"), command: z.string().min(1) }),
]);
export type FileOperation = z.output<typeof fileOperationSchema>;

/** Operations that change the machine: allowed only where command execution is. */
export const CHANGING_OPERATIONS: readonly FileOperation["type"][] = ["write", "command"];

const DISABLED =
  "writes and commands are disabled: they change files and run programs as the server's user; set BATCHBOARD_ENABLE_COMMAND_FLOW=1 to enable them";

function place(root: string, rel: string): string {
  try {
    return resolveInWorkspace(root, rel);
  } catch (err) {
    if (err instanceof PathRefused) throw new FlowError("path_refused", err.message, { retryable: false });
    throw err;
  }
}

export const files = defineFlow({
  name: "files",
  description:
    "Reads, lists, writes files and runs commands inside the workspace (BATCHBOARD_WORKSPACE_DIR), one operation per record: {type: read|list, path}; {type: write, path, content} and {type: command, command} only with BATCHBOARD_ENABLE_COMMAND_FLOW=1.",
  parameters: z.object({
    max_read_bytes: z.number().int().min(1).max(16 * 1024 * 1024).default(1024 * 1024).describe("a read returns at most this many bytes"),
    timeout_ms: z.number().int().min(1).max(3_600_000).default(60_000).describe("for command operations"),
    max_output_bytes: z.number().int().min(1).max(16 * 1024 * 1024).default(64 * 1024).describe("a command's stdout and stderr are each cut at this size"),
  }),
  async run(record, ctx) {
    const root = workspaceRoot();
    if (!root) throw new FlowError("no_workspace", "no workspace: set BATCHBOARD_WORKSPACE_DIR to an existing directory", { retryable: false });
    // the record's id field is where it came from, not part of the operation
    const { id: _id, ...operation } = (record.data ?? {}) as Record<string, unknown>;
    const parsed = fileOperationSchema.safeParse(operation);
    if (!parsed.success) {
      throw new FlowError("invalid_operation", `not a file operation: ${parsed.error.issues.map((i) => `${i.path.join(".") || "record"}: ${i.message}`).join("; ")}`, {
        retryable: false,
      });
    }
    const op = parsed.data;
    if (CHANGING_OPERATIONS.includes(op.type) && !commandFlowEnabled()) throw new FlowError("operation_disabled", DISABLED, { retryable: false });
    const { params } = ctx;
    switch (op.type) {
      case "read": {
        const file = place(root, op.path);
        const handle = await open(file, constants.O_RDONLY).catch((e: NodeJS.ErrnoException) => {
          throw new FlowError("read_failed", `cannot read ${op.path}: ${e.code ?? e.message}`, { retryable: false });
        });
        try {
          const info = await handle.stat();
          if (info.isDirectory()) throw new FlowError("read_failed", `${op.path} is a directory: list it instead`, { retryable: false });
          const buf = Buffer.alloc(Math.min(info.size, params.max_read_bytes));
          const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
          return { type: "read", path: op.path, content: buf.subarray(0, bytesRead).toString("utf8"), bytes: info.size, truncated: info.size > bytesRead };
        } finally {
          await handle.close();
        }
      }
      case "list": {
        const dir = place(root, op.path);
        const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
          throw new FlowError("list_failed", `cannot list ${op.path}: ${e.code ?? e.message}`, { retryable: false });
        });
        const kind = (e: (typeof entries)[number]) => (e.isDirectory() ? "directory" : e.isFile() ? "file" : e.isSymbolicLink() ? "symlink" : "other");
        return { type: "list", path: op.path, entries: entries.map((e) => ({ name: e.name, type: kind(e) })).sort((a, b) => a.name.localeCompare(b.name)) };
      }
      case "write": {
        const file = place(root, op.path);
        if ((await stat(file).catch(() => null))?.isDirectory()) throw new FlowError("write_failed", `${op.path} is a directory`, { retryable: false });
        await mkdir(path.dirname(file), { recursive: true });
        // O_NOFOLLOW: a symlink put in its place since the check is not followed
        const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644).catch((e: NodeJS.ErrnoException) => {
          throw new FlowError("write_failed", `cannot write ${op.path}: ${e.code ?? e.message}`, { retryable: false });
        });
        try {
          await handle.writeFile(op.content, "utf8");
        } finally {
          await handle.close();
        }
        ctx.log(`wrote ${Buffer.byteLength(op.content)} bytes to ${op.path}`);
        return { type: "write", path: op.path, bytes: Buffer.byteLength(op.content) };
      }
      case "command": {
        const result = await runShell(op.command, { cwd: root, timeoutMs: params.timeout_ms, maxOutputBytes: params.max_output_bytes, signal: ctx.signal });
        if (result.exit_code !== 0) {
          const how = result.exit_code === null ? `was killed by ${result.signal}` : `exited with ${result.exit_code}`;
          throw new FlowError("command_failed", `command ${how}: ${result.stderr.trim().split("\n").slice(-5).join("\n")}`, {
            retryable: false,
            result: { type: "command", command: op.command, ...result },
          });
        }
        return { type: "command", command: op.command, ...result };
      }
    }
  },
});
