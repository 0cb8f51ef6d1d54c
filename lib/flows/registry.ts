// Every flow Batchboard can run. Adding a flow: one file in lib/flows/ and one line here.
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { agent } from "./agent";
import { chaos } from "./chaos";
import { classify } from "./classify";
import { command } from "./command";
import { echo } from "./echo";
import { embed } from "./embed";
import { files } from "./files";
import { http } from "./http";
import { llm } from "./llm";
import { openai } from "./openai";
import { review } from "./review";
import { sleep } from "./sleep";
import type { FlowDefinition } from "./types";
import { undeclaredKeys } from "./undeclared-keys";

const builtIn: FlowDefinition[] = [echo, sleep, chaos, http, llm, embed, openai, classify, review, command, files, agent];

const flows = new Map<string, FlowDefinition>(builtIn.map((f) => [f.name, f]));

export function getFlow(name: string): FlowDefinition | undefined {
  return flows.get(name);
}

export function getFlowOrThrow(name: string): FlowDefinition {
  const flow = flows.get(name);
  if (!flow) {
    throw new AppError("not_found", `flow ${JSON.stringify(name)} not found`, [
      { path: "flow", message: `known flows: ${[...flows.keys()].join(", ")}` },
    ]);
  }
  return flow;
}

export function listFlows(): FlowDefinition[] {
  return [...flows.values()];
}

/** Registers a flow at run time (embedding Batchboard as a library, and tests). */
export function registerFlow(flow: FlowDefinition): void {
  flows.set(flow.name, flow);
}

/**
 * Validates batch parameters against a flow's schema: 422 with field paths under `parameters`. A key
 * the schema does not declare is refused too, naming it (a typo must not run the batch on a default);
 * a flow that takes free-form parameters declares so with z.looseObject or z.record.
 */
export function parseFlowParameters(flow: FlowDefinition, parameters: unknown): unknown {
  const input = parameters ?? {};
  const undeclared = undeclaredKeys(flow.parameters, input).map((k) => ({
    path: `parameters.${k.path}`,
    message: `not a parameter of flow ${JSON.stringify(flow.name)}${k.declared.length ? ` (known here: ${k.declared.join(", ")})` : ""}`,
  }));
  const parsed = flow.parameters.safeParse(input);
  if (parsed.success && undeclared.length === 0) return parsed.data;
  const issues = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: ["parameters", ...i.path.map(String)].join("."), message: i.message }));
  const details = [...undeclared, ...issues];
  throw new AppError(
    "validation_failed",
    `parameters do not match flow ${JSON.stringify(flow.name)}: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`,
    details,
  );
}

/**
 * The chunk size a batch of this flow runs with: the one asked for, else the flow's default; 1 for a
 * flow without runChunk. 422 naming `chunk_size` when it is above 1 on a flow that does not chunk, or
 * above the flow's maximum.
 */
export function resolveChunkSize(flow: FlowDefinition, asked: number | null | undefined, parameters: unknown): number {
  const sizes = flow.runChunk ? flow.chunk : undefined;
  const mode = sizes?.parameter;
  const value = mode ? ((parameters as Record<string, unknown> | null)?.[mode] ?? null) : null;
  if (mode && (sizes!.value === undefined ? value === null : value !== sizes!.value)) {
    if (asked !== undefined && asked !== null && asked !== 1) {
      const wanted = sizes!.value === undefined ? `parameters.${mode}` : `parameters.${mode} ${JSON.stringify(sizes!.value)}`;
      const message = `flow ${JSON.stringify(flow.name)} runs many records per call only with ${wanted}`;
      throw new AppError("validation_failed", `chunk_size: ${message}`, [{ path: "chunk_size", message }]);
    }
    return 1;
  }
  if (asked === undefined || asked === null) return sizes?.defaultSize ?? 1;
  const refuse = (message: string) => {
    throw new AppError("validation_failed", `chunk_size: ${message}`, [{ path: "chunk_size", message }]);
  };
  if (!Number.isInteger(asked) || asked < 1) refuse("must be an integer >= 1");
  // one record per call is what every flow does (a clone of a batch of such a flow inherits it)
  if (asked === 1 && (sizes?.minSize ?? 1) <= 1) return 1;
  if (!sizes) refuse(`flow ${JSON.stringify(flow.name)} runs one record per call: it takes no chunk_size`);
  if (asked > sizes!.maxSize) refuse(`at most ${sizes!.maxSize} for flow ${JSON.stringify(flow.name)}`);
  if (asked < (sizes!.minSize ?? 1)) refuse(`at least ${sizes!.minSize} for flow ${JSON.stringify(flow.name)} with these parameters`);
  return asked;
}

/** The flow's parameters as JSON Schema (GET /api/flows, the dashboard's generated form). */
export function flowParametersJsonSchema(flow: FlowDefinition): Record<string, unknown> {
  return z.toJSONSchema(flow.parameters, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

/** Something about a batch worth saying before it runs, though it is valid. */
export interface FlowWarning {
  code: "input_required";
  path: string;
  message: string;
}

/**
 * A flow that asks a human, in a batch that is not interactive and has no default answer, fails
 * every record with `input_required`: said when the batch is created (and in the New batch form).
 */
export function flowWarnings(flow: FlowDefinition, parameters: unknown, interactive: boolean): FlowWarning[] {
  const param = flow.asks?.defaultParameter;
  if (interactive || !param) return [];
  const value = (parameters as Record<string, unknown> | null)?.[param];
  if (value !== undefined && value !== null) return [];
  return [
    {
      code: "input_required",
      path: "interactive",
      message: `every record will fail with input_required: flow ${flow.name} asks a human, and this batch is not interactive and sets no parameters.${param}`,
    },
  ];
}
