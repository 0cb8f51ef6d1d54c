// A coding task per record ({id, description}), done in a loop by two models: the coder proposes file
// changes as JSON, they are written into the task's own directory under the workspace
// (BATCHBOARD_WORKSPACE_DIR, a fresh copy of BATCHBOARD_AGENT_TEMPLATE_DIR or empty), the check
// command runs there, and the reviewer reads the diff and the check's output. The loop ends when the
// check passes and the reviewer approves, or after max_loops (the record fails `not_approved`, its
// result kept). Writing files is always confined to the task's directory; the check command needs
// command execution enabled, as for the command flow.
import { constants } from "node:fs";
import { cp, lstat, mkdir, open, readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { getConfig, routeForModel } from "@/lib/config";
import type { ModelRoute } from "@/lib/openai/routes";
import { PathRefused, resolveInWorkspace, workspaceRoot } from "@/lib/job-queue/workspace";
import { commandFlowEnabled, runShell } from "./command";
import { requestJson } from "./http-client";
import { fileDiff } from "./line-diff";
import { apiKeyEnvSchema, authHeaders, endpoint } from "./llm";
import { costOf } from "./openai";
import { defineFlow, FlowError, type FlowContext } from "./types";

/** Where the tasks' directories are made, relative to the workspace: one per batch, one per task in it. */
export const AGENT_TASKS_DIR = "agent-tasks";
/** A file larger than this is not shown to the models, and diffs as "changed" without its lines. */
const MAX_TEXT_FILE_BYTES = 256 * 1024;
/** The most files a task directory may hold (template included). */
const MAX_FILES = 2_000;
/** What the coder is shown of the workspace's files, and the reviewer of the diff and check output. */
const PROMPT_FILES_CHARS = 48_000;
const PROMPT_DIFF_CHARS = 48_000;
const PROMPT_CHECK_CHARS = 8_000;
/** Kept in the result. */
const RESULT_DIFF_CHARS = 64 * 1024;
const RESULT_CHECK_CHARS = 8_000;

export const proposalSchema = z.object({
  summary: z.string().default(""),
  files: z.array(z.object({ path: z.string().min(1), content: z.string() })).max(500),
  delete: z.array(z.string().min(1)).max(500).default([]),
});
type Proposal = z.output<typeof proposalSchema>;

const PROPOSAL_JSON_SCHEMA = {
  type: "object",
  properties: {
    summary: { type: "string", description: "what this change does, in a sentence" },
    files: {
      type: "array",
      description: "files to create or replace, each with its whole new content",
      items: {
        type: "object",
        properties: { path: { type: "string", description: "relative to the project root" }, content: { type: "string" } },
        required: ["path", "content"],
        additionalProperties: false,
      },
    },
    delete: { type: "array", items: { type: "string" }, description: "paths of files to delete" },
  },
  required: ["summary", "files", "delete"],
  additionalProperties: false,
};

export const reviewSchema = z.object({
  verdict: z.enum(["approved", "changes_requested"]),
  comments: z.string().default(""),
});
type Review = z.output<typeof reviewSchema>;

const REVIEW_JSON_SCHEMA = {
  type: "object",
  properties: {
    verdict: { type: "string", enum: ["approved", "changes_requested"] },
    comments: { type: "string", description: "what must change before approval, or why it is good" },
  },
  required: ["verdict", "comments"],
  additionalProperties: false,
};

const CODER_SYSTEM = `You are a careful software engineer working in a project directory. Do the task you are given by proposing file changes.
Answer with JSON only: {"summary": "...", "files": [{"path": "relative/path", "content": "the whole new file"}], "delete": ["relative/path"]}.
Paths are relative to the project root; never absolute, never with "..". Give each changed file's complete content.`;

const REVIEWER_SYSTEM = `You are a strict code reviewer. You are shown a task, the diff made for it and the output of the project's check.
Approve only when the diff does the task and the check passed (or there is no check). Answer with JSON only: {"verdict": "approved" | "changes_requested", "comments": "..."}.`;

const taskSchema = z.object({ id: z.unknown(), description: z.string().min(1) });

interface Snapshot {
  /** text content, or null for a binary or large file (then `sig` tells versions apart) */
  files: Map<string, { text: string | null; sig: string }>;
}

async function snapshot(dir: string): Promise<Snapshot> {
  const files: Snapshot["files"] = new Map();
  const walk = async (rel: string) => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, relPath);
      if (files.size >= MAX_FILES) throw new FlowError("workspace_too_large", `the task's directory holds more than ${MAX_FILES} files`, { retryable: false });
      if (e.isDirectory()) await walk(relPath);
      else if (e.isSymbolicLink()) files.set(relPath, { text: null, sig: `symlink -> ${await readlink(abs)}` });
      else if (e.isFile()) {
        const info = await lstat(abs);
        if (info.size > MAX_TEXT_FILE_BYTES) {
          files.set(relPath, { text: null, sig: `${info.size} bytes, modified ${info.mtimeMs}` });
          continue;
        }
        const bytes = await readFile(abs);
        const binary = bytes.includes(0);
        files.set(relPath, { text: binary ? null : bytes.toString("utf8"), sig: binary ? `binary ${bytes.toString("base64")}` : "" });
      }
    }
  };
  await walk("");
  return { files };
}

/** The unified diff from `before` to `after`, file by file in path order. */
function treeDiff(before: Snapshot, after: Snapshot): { diff: string; changed: string[] } {
  const paths = [...new Set([...before.files.keys(), ...after.files.keys()])].sort();
  const parts: string[] = [];
  const changed: string[] = [];
  for (const p of paths) {
    const a = before.files.get(p);
    const b = after.files.get(p);
    if (a && b && a.text === b.text && a.sig === b.sig) continue;
    changed.push(p);
    if ((a && a.text === null) || (b && b.text === null)) {
      parts.push(`--- ${a ? `a/${p}` : "/dev/null"}\n+++ ${b ? `b/${p}` : "/dev/null"}\n(binary, large or link: changed)\n`);
      continue;
    }
    parts.push(fileDiff(p, a ? a.text : null, b ? b.text : null));
  }
  return { diff: parts.join(""), changed };
}

const head = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text);
const tail = (text: string, max: number) => (text.length > max ? `… (${text.length - max} characters before)\n${text.slice(-max)}` : text);

function filesForPrompt(snap: Snapshot): string {
  if (snap.files.size === 0) return "(the project directory is empty)";
  let budget = PROMPT_FILES_CHARS;
  const out: string[] = [];
  for (const [p, f] of snap.files) {
    if (f.text === null || f.text.length > budget) {
      out.push(`=== ${p} (not shown)`);
      continue;
    }
    budget -= f.text.length;
    out.push(`=== ${p}\n${f.text}`);
  }
  return out.join("\n");
}

/** A model's answer as JSON: the whole content, or the first fenced block in it. */
function parseJsonAnswer(content: string): unknown {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/.exec(content);
  return JSON.parse((fenced ? fenced[1]! : content).trim());
}

class LoopProblem extends Error {
  constructor(
    readonly code: "invalid_model_output" | "path_refused" | "write_failed",
    message: string,
  ) {
    super(message);
  }
}

interface ChatCall {
  model: string;
  system: string;
  user: string;
  schemaName: string;
  schema: Record<string, unknown>;
}

type AgentParams = z.output<typeof agentParameters>;

async function chat(call: ChatCall, params: AgentParams, ctx: FlowContext<AgentParams>, usage: { prompt_tokens: number; completion_tokens: number }) {
  const route: ModelRoute | null = params.base_url ? null : routeForModel(call.model);
  if (route?.keyEnv && route.apiKey === undefined && !params.api_key_env) {
    throw new FlowError("secret_missing", `environment variable ${route.keyEnv} (the key of route ${route.name}) is not set on the worker`, { retryable: false });
  }
  const body: Record<string, unknown> = {
    model: call.model,
    messages: [
      { role: "system", content: call.system },
      { role: "user", content: call.user },
    ],
  };
  if (params.response_format === "json_schema") {
    body.response_format = { type: "json_schema", json_schema: { name: call.schemaName, schema: call.schema, strict: true } };
  } else if (params.response_format === "json_object") {
    body.response_format = { type: "json_object" };
  }
  const res = await requestJson({
    url: endpoint(params.base_url ?? route!.baseUrl, "chat/completions"),
    headers: params.api_key_env ? authHeaders(params.api_key_env) : route?.apiKey ? { authorization: `Bearer ${route.apiKey}` } : {},
    body,
    timeoutMs: params.timeout_ms,
    signal: ctx.signal,
  });
  const json = res.json as { choices?: { message?: { content?: unknown } }[]; usage?: { prompt_tokens?: number; completion_tokens?: number } } | null;
  usage.prompt_tokens += json?.usage?.prompt_tokens ?? 0;
  usage.completion_tokens += json?.usage?.completion_tokens ?? 0;
  if (route) {
    const cost = costOf(json, route.prices);
    if (cost > 0) ctx.reportCost(cost);
  }
  const content = json?.choices?.[0]?.message?.content;
  if (typeof content !== "string") throw new LoopProblem("invalid_model_output", `${call.model} answered without a message (no choices[0].message.content)`);
  return content;
}

function parseAnswer<T extends z.ZodType>(model: string, what: string, content: string, schema: T): z.output<T> {
  let value: unknown;
  try {
    value = parseJsonAnswer(content);
  } catch {
    throw new LoopProblem("invalid_model_output", `${model}'s ${what} is not JSON: ${head(content, 200)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(the answer)"}: ${i.message}`).join("; ");
    throw new LoopProblem("invalid_model_output", `${model}'s ${what} does not have the expected shape: ${issues}`);
  }
  return parsed.data;
}

function place(dir: string, rel: string): string {
  try {
    return resolveInWorkspace(dir, rel);
  } catch (err) {
    if (err instanceof PathRefused) throw new LoopProblem("path_refused", `${err.message.replace("the workspace", "the task's directory")}; nothing of this proposal was written`);
    throw err;
  }
}

/** Every path is checked before anything is written: a proposal is applied whole or not at all. */
async function applyProposal(dir: string, proposal: Proposal): Promise<{ written: string[]; deleted: string[] }> {
  const writes = proposal.files.map((f) => ({ rel: f.path, abs: place(dir, f.path), content: f.content }));
  const deletes = proposal.delete.map((rel) => ({ rel, abs: place(dir, rel) }));
  for (const w of writes) {
    if (w.abs === dir || (await stat(w.abs).catch(() => null))?.isDirectory()) throw new LoopProblem("write_failed", `${w.rel} is a directory`);
  }
  for (const w of writes) {
    await mkdir(path.dirname(w.abs), { recursive: true });
    // O_NOFOLLOW: a symlink put in its place since the check is not followed
    const handle = await open(w.abs, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644).catch((e: NodeJS.ErrnoException) => {
      throw new LoopProblem("write_failed", `cannot write ${w.rel}: ${e.code ?? e.message}`);
    });
    try {
      await handle.writeFile(w.content, "utf8");
    } finally {
      await handle.close();
    }
  }
  for (const d of deletes) {
    if (d.abs === dir) throw new LoopProblem("write_failed", `cannot delete the project directory itself`);
    await rm(d.abs, { force: true }).catch((e: NodeJS.ErrnoException) => {
      throw new LoopProblem("write_failed", `cannot delete ${d.rel}: ${e.code ?? e.message}`);
    });
  }
  return { written: writes.map((w) => w.rel), deleted: deletes.map((d) => d.rel) };
}

/** A task's directory name: its position (unique in the batch) and its id, made safe for a path. */
function taskDirName(id: string, position: number): string {
  const safe = id.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[.-]+/, "").slice(0, 80);
  return `${position + 1}${safe ? `-${safe}` : ""}`;
}

/** The task's directory, made fresh (a copy of the template, or empty): a retried attempt starts over. */
async function freshTaskDir(root: string, batchId: string, dirName: string): Promise<{ dir: string; rel: string }> {
  const rel = `${AGENT_TASKS_DIR}/${batchId}/${dirName}`;
  const dir = resolveInWorkspace(root, rel);
  await rm(dir, { recursive: true, force: true });
  const template = getConfig().BATCHBOARD_AGENT_TEMPLATE_DIR;
  if (template) {
    const info = await stat(template).catch(() => null);
    if (!info?.isDirectory()) {
      throw new FlowError("no_template", "BATCHBOARD_AGENT_TEMPLATE_DIR is not a directory on the worker", { retryable: false });
    }
    await mkdir(path.dirname(dir), { recursive: true });
    // links are copied as links: writes through them are still confined to the task's directory
    await cp(template, dir, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
  } else {
    await mkdir(dir, { recursive: true });
  }
  return { dir: resolveInWorkspace(root, rel), rel };
}

export const agentParameters = z.object({
  coder_model: z.string().min(1).describe("proposes the file changes (an OpenAI-compatible chat model)"),
  reviewer_model: z.string().min(1).describe("reviews the diff and the check's output"),
  check_command: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe("run by /bin/sh -c in the task's directory after each change; exit 0 passes (needs BATCHBOARD_ENABLE_COMMAND_FLOW=1); unset: no check"),
  max_loops: z.number().int().min(1).max(50).default(8).describe("coder-check-review rounds before the task fails not_approved"),
  base_url: z
    .string()
    .regex(/^https?:\/\//i, "must start with http:// or https://")
    .optional()
    .describe("OpenAI-compatible API root for both models; unset: the upstream each model routes to (BATCHBOARD_MODEL_ROUTES, else OPENAI_BASE_URL with OPENAI_API_KEY)"),
  api_key_env: apiKeyEnvSchema,
  response_format: z
    .enum(["json_schema", "json_object", "none"])
    .default("json_schema")
    .describe("how the models are asked for JSON: a JSON schema (structured output), JSON mode, or by the prompt alone; answers are validated either way"),
  timeout_ms: z.number().int().min(1).max(3_600_000).default(600_000).describe("per model call"),
  check_timeout_ms: z.number().int().min(1).max(3_600_000).default(300_000),
  max_output_bytes: z.number().int().min(1).max(16 * 1024 * 1024).default(64 * 1024).describe("the check's stdout and stderr are each cut at this size"),
});

interface LoopLog {
  loop: number;
  summary: string | null;
  written: string[];
  deleted: string[];
  check: { exit_code: number | null; passed: boolean } | null;
  review: Review | null;
  error: { code: string; message: string } | null;
}

export const agent = defineFlow({
  name: "agent",
  description:
    "Does a coding task per record ({id, description}) in a directory of its own under BATCHBOARD_WORKSPACE_DIR: a coder model proposes file changes, a check command runs, a reviewer model approves or asks for changes, until both agree or max_loops.",
  parameters: agentParameters.superRefine((p, ctx) => {
    if (!commandFlowEnabled()) {
      const message = "the agent writes the coder's changes in the workspace and runs the check command: it needs command execution enabled (BATCHBOARD_ENABLE_COMMAND_FLOW=1)";
      ctx.addIssue({ code: "custom", path: [p.check_command !== undefined ? "check_command" : "coder_model"], message });
    }
  }),
  async run(record, ctx) {
    const { params } = ctx;
    const task = taskSchema.safeParse(record.data);
    if (!task.success) throw new FlowError("invalid_task", "a task is {id, description} with a non-empty description", { retryable: false });
    if (!commandFlowEnabled()) {
      throw new FlowError("command_disabled", "the agent writes files in the workspace and runs commands: command execution is disabled (BATCHBOARD_ENABLE_COMMAND_FLOW=1 enables it)", { retryable: false });
    }
    const root = workspaceRoot();
    if (!root) throw new FlowError("no_workspace", "no workspace: set BATCHBOARD_WORKSPACE_DIR to an existing directory", { retryable: false });
    const { dir, rel } = await freshTaskDir(root, ctx.batchId, taskDirName(record.id, record.position));
    const start = await snapshot(dir);
    const description = task.data.description;
    const usage = { prompt_tokens: 0, completion_tokens: 0 };

    const history: LoopLog[] = [];
    let feedback = "";
    let check: { exit_code: number | null; output: string; passed: boolean } | null = null;
    let review: Review | null = null;
    let diff = { diff: "", changed: [] as string[] };
    let lastProblem: LoopProblem | null = null;

    for (let loop = 1; loop <= params.max_loops; loop++) {
      ctx.signal.throwIfAborted();
      const entry: LoopLog = { loop, summary: null, written: [], deleted: [], check: null, review: null, error: null };
      history.push(entry);
      try {
        lastProblem = null;
        const now = await snapshot(dir);
        const coderAnswer = await chat(
          {
            model: params.coder_model,
            system: CODER_SYSTEM,
            user: `Task: ${description}\n\nThe project's files now:\n${filesForPrompt(now)}${feedback ? `\n\nYour previous attempt was not accepted:\n${feedback}` : ""}`,
            schemaName: "proposal",
            schema: PROPOSAL_JSON_SCHEMA,
          },
          params,
          ctx,
          usage,
        );
        const proposal = parseAnswer(params.coder_model, "proposal", coderAnswer, proposalSchema);
        entry.summary = proposal.summary || null;
        Object.assign(entry, await applyProposal(dir, proposal));

        check = null;
        if (params.check_command !== undefined) {
          check = await runCheck(params.check_command, dir, params, ctx.signal);
          entry.check = { exit_code: check.exit_code, passed: check.passed };
        }
        diff = treeDiff(start, await snapshot(dir));
        const checkText = check ? `exit code ${check.exit_code ?? "none (killed)"}, ${check.passed ? "passed" : "FAILED"}:\n${tail(check.output, PROMPT_CHECK_CHARS)}` : "(no check command)";
        const reviewerAnswer = await chat(
          {
            model: params.reviewer_model,
            system: REVIEWER_SYSTEM,
            user: `Task: ${description}\n\nThe diff:\n${head(diff.diff || "(no changes)", PROMPT_DIFF_CHARS)}\n\nThe check (${params.check_command ?? "none"}): ${checkText}`,
            schemaName: "review",
            schema: REVIEW_JSON_SCHEMA,
          },
          params,
          ctx,
          usage,
        );
        review = parseAnswer(params.reviewer_model, "review", reviewerAnswer, reviewSchema);
        entry.review = review;
        const passed = check?.passed ?? true;
        ctx.log(
          `loop ${loop}/${params.max_loops}: ${entry.written.length} written, ${entry.deleted.length} deleted; check ${check ? (passed ? "passed" : `failed (exit ${check.exit_code})`) : "none"}; reviewer: ${review.verdict}`,
        );
        if (passed && review.verdict === "approved") break;
        feedback = [
          check && !check.passed ? `The check failed (exit code ${check.exit_code}):\n${tail(check.output, PROMPT_CHECK_CHARS)}` : "",
          review.verdict !== "approved" ? `The reviewer asked for changes: ${review.comments}` : "",
        ]
          .filter(Boolean)
          .join("\n\n");
      } catch (err) {
        if (!(err instanceof LoopProblem)) throw err;
        lastProblem = err;
        entry.error = { code: err.code, message: err.message };
        ctx.log(`loop ${loop}/${params.max_loops}: ${err.code}: ${err.message}`, "warn");
        feedback = `Your answer could not be used: ${err.message}`;
      }
    }

    diff = treeDiff(start, await snapshot(dir));
    const passed = lastProblem === null && (check?.passed ?? true);
    const approved = lastProblem === null && review?.verdict === "approved";
    const result = {
      task_id: record.id,
      workspace: rel,
      loops: history.length,
      approved,
      passed,
      verdict: review?.verdict ?? null,
      comments: review?.comments ?? null,
      check: check
        ? { command: params.check_command, exit_code: check.exit_code, output: tail(check.output, RESULT_CHECK_CHARS), output_truncated: check.output.length > RESULT_CHECK_CHARS }
        : null,
      diff: head(diff.diff, RESULT_DIFF_CHARS),
      diff_truncated: diff.diff.length > RESULT_DIFF_CHARS,
      files_changed: diff.changed,
      history,
      usage,
    };
    if (approved && passed) return result;
    if (lastProblem) throw new FlowError(lastProblem.code, `after ${history.length} loops: ${lastProblem.message}`, { retryable: false, result });
    const why = [!passed ? "the check still fails" : "", !approved ? "the reviewer has not approved" : ""].filter(Boolean).join(" and ");
    throw new FlowError("not_approved", `after ${history.length} loops ${why}${review?.comments ? `: ${head(review.comments, 300)}` : ""}`, { retryable: false, result });
  },
});

async function runCheck(command: string, cwd: string, params: AgentParams, signal: AbortSignal) {
  try {
    const r = await runShell(command, { cwd, timeoutMs: params.check_timeout_ms, maxOutputBytes: params.max_output_bytes, signal });
    const output = [r.stdout, r.stderr].filter(Boolean).join(r.stdout.endsWith("\n") || !r.stdout ? "" : "\n");
    return { exit_code: r.exit_code, output, passed: r.exit_code === 0 };
  } catch (err) {
    // a check that outlives its time fails this loop; a cancel or shutdown stops the task
    if (err instanceof FlowError && err.code === "timeout" && !signal.aborted) {
      return { exit_code: null, output: err.message, passed: false };
    }
    throw err;
  }
}
