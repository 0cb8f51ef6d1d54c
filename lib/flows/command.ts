// Runs a shell command per record. It executes arbitrary code as the server's user, so it is off
// unless BATCHBOARD_ENABLE_COMMAND_FLOW=1: refused when a batch is created and again when a job runs.
import { spawn } from "node:child_process";
import { z } from "zod";
import { configValue } from "@/lib/config";
import { PathRefused, resolveInWorkspace, workspaceRoot } from "@/lib/job-queue/workspace";
import { quotedPlaceholderProblem } from "./shell-placeholders";
import { renderTemplate, shellQuote } from "./template";
import { defineFlow, FlowError } from "./types";

export function commandFlowEnabled(): boolean {
  return configValue("BATCHBOARD_ENABLE_COMMAND_FLOW");
}

const DISABLED_MESSAGE =
  "the command flow is disabled: it runs shell commands as the server's user; set BATCHBOARD_ENABLE_COMMAND_FLOW=1 to enable it";

export interface CommandResult {
  exit_code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
}

/** Collects a stream up to `max` bytes, counting (not keeping) the rest. */
function capture(max: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  return {
    push(chunk: Buffer) {
      const room = max - kept;
      if (chunk.length > room) truncated = true;
      if (room > 0) {
        const part = chunk.subarray(0, room);
        chunks.push(part);
        kept += part.length;
      }
    },
    text: () => Buffer.concat(chunks).toString("utf8"),
    truncated: () => truncated,
  };
}

export interface ShellOptions {
  /** the directory it runs in (default: the server's) */
  cwd?: string;
  stdin?: string;
  timeoutMs: number;
  maxOutputBytes: number;
  signal: AbortSignal;
}

/** Runs `/bin/sh -c line` in a process group of its own, so a timeout or cancel also stops whatever the shell started. */
export function runShell(line: string, options: ShellOptions): Promise<CommandResult> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", line], { detached: true, stdio: ["pipe", "pipe", "pipe"], cwd: options.cwd });
    const out = capture(options.maxOutputBytes);
    const err = capture(options.maxOutputBytes);
    let stopped: unknown = null;
    const kill = (reason: unknown) => {
      stopped ??= reason;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(
      () => kill(new FlowError("timeout", `command did not finish within ${options.timeoutMs} ms`, { retryable: true })),
      options.timeoutMs,
    );
    const onAbort = () => kill(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.stdin.on("error", () => {}); // a command that ignores stdin closes the pipe early: not an error
    child.on("error", (e) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(new FlowError("command_failed", `cannot start /bin/sh${options.cwd ? " in its directory" : ""}: ${e.message}`, { retryable: false }));
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      if (stopped) return reject(stopped);
      resolve({
        exit_code: code,
        signal: sig,
        stdout: out.text(),
        stderr: err.text(),
        stdout_truncated: out.truncated(),
        stderr_truncated: err.truncated(),
      });
    });
    child.stdin.end(options.stdin);
  });
}

/** The absolute directory of `rel` inside the workspace, checked when the job runs. */
function inWorkspace(rel: string): string {
  const root = workspaceRoot();
  if (!root) throw new FlowError("no_workspace", "no workspace: set BATCHBOARD_WORKSPACE_DIR to an existing directory", { retryable: false });
  try {
    return resolveInWorkspace(root, rel);
  } catch (err) {
    if (err instanceof PathRefused) throw new FlowError("path_refused", err.message, { retryable: false });
    throw err;
  }
}

export const command = defineFlow({
  name: "command",
  description:
    "Runs a shell command per record with the record as JSON on stdin and/or {{record.field}} arguments (shell-quoted); captures stdout, stderr and the exit code. Disabled unless BATCHBOARD_ENABLE_COMMAND_FLOW=1.",
  parameters: z
    .object({
      command: z
        .string()
        .min(1)
        .describe(
          "run by /bin/sh -c; each {{record.field}} placeholder becomes one shell-quoted word, so it must stand outside quotes, `...`, $(...) and here-documents (a 422 otherwise). Put -- before record-data arguments so a value starting with - is not read as an option: grep -- {{record.pattern}} file",
        ),
      stdin: z.enum(["json", "none"]).default("json").describe("send the record's data as JSON on stdin"),
      timeout_ms: z.number().int().min(1).max(3_600_000).default(60_000),
      max_output_bytes: z.number().int().min(1).max(16 * 1024 * 1024).default(64 * 1024).describe("stdout and stderr are each cut at this size"),
      fail_on_nonzero: z.boolean().default(true).describe("a non-zero exit fails the record"),
      cwd: z.string().min(1).optional().describe("the directory the command runs in (default: the server's working directory)"),
      workspace_path: z
        .string()
        .min(1)
        .optional()
        .describe("instead of cwd: a directory relative to BATCHBOARD_WORKSPACE_DIR (`.` for the workspace itself), found when the job runs, so the batch does not show where the workspace is"),
    })
    .superRefine((p, ctx) => {
      if (!commandFlowEnabled()) ctx.addIssue({ code: "custom", message: DISABLED_MESSAGE, path: [] });
      if (p.cwd !== undefined && p.workspace_path !== undefined) ctx.addIssue({ code: "custom", message: "give cwd or workspace_path, not both", path: ["workspace_path"] });
      const quoted = quotedPlaceholderProblem(p.command);
      if (quoted) ctx.addIssue({ code: "custom", message: quoted, path: ["command"] });
    }),
  async run(record, ctx) {
    if (!commandFlowEnabled()) throw new FlowError("command_disabled", DISABLED_MESSAGE, { retryable: false });
    const { params } = ctx;
    // again here: a batch created before the rule may hold such a command
    const quoted = quotedPlaceholderProblem(params.command);
    if (quoted) throw new FlowError("command_invalid", quoted, { retryable: false });
    const line = renderTemplate(params.command, record, shellQuote);

    const result = await runShell(line, {
      cwd: params.workspace_path === undefined ? params.cwd : inWorkspace(params.workspace_path),
      stdin: params.stdin === "json" ? `${JSON.stringify(record.data ?? null)}\n` : undefined,
      timeoutMs: params.timeout_ms,
      maxOutputBytes: params.max_output_bytes,
      signal: ctx.signal,
    });

    if (params.fail_on_nonzero && result.exit_code !== 0) {
      const tail = result.stderr.trim().split("\n").slice(-5).join("\n");
      const how = result.exit_code === null ? `was killed by ${result.signal}` : `exited with ${result.exit_code}`;
      ctx.log(`stderr: ${result.stderr.slice(-2000)}`, "warn");
      throw new FlowError("command_failed", `command ${how}${tail ? `: ${tail}` : ""}`, { retryable: false });
    }
    return result;
  },
});
