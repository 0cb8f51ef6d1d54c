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
import type { ChunkSize, FlowDefinition } from "./types";
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
 * The chunk sizes a batch of this flow with these (parsed) parameters runs with, or null when it runs
 * one record per call; `why` says what would make it chunk.
 */
export function chunkSizesFor(flow: FlowDefinition, parameters: unknown): { sizes: ChunkSize | null; why: string } {
  const declared = flow.runChunk ? flow.chunk : undefined;
  const name = JSON.stringify(flow.name);
  if (!declared) return { sizes: null, why: `flow ${name} runs one record per call: it takes no chunk_size` };
  if (!declared.parameter) return { sizes: declared as ChunkSize, why: "" };
  const value = (parameters as Record<string, unknown> | null)?.[declared.parameter] ?? null;
  if ("modes" in declared) {
    const sizes = typeof value === "string" && Object.hasOwn(declared.modes, value) ? declared.modes[value]! : null;
    const modes = Object.keys(declared.modes).map((m) => JSON.stringify(m)).join(" or ");
    return { sizes, why: `flow ${name} runs many records per call only with parameters.${declared.parameter} ${modes}` };
  }
  return { sizes: value === null ? null : (declared as ChunkSize), why: `flow ${name} runs many records per call only with parameters.${declared.parameter}` };
}

/**
 * The chunk size a batch of this flow runs with: the one asked for, else the flow's default (for its
 * mode); 1 for a flow or mode that does not chunk. 422 naming `chunk_size` when it is above 1 where
 * the flow does not chunk, or outside the sizes declared for its mode.
 */
export function resolveChunkSize(flow: FlowDefinition, asked: number | null | undefined, parameters: unknown): number {
  const refuse = (message: string): never => {
    throw new AppError("validation_failed", `chunk_size: ${message}`, [{ path: "chunk_size", message }]);
  };
  const { sizes, why } = chunkSizesFor(flow, parameters);
  if (asked !== undefined && asked !== null && (!Number.isInteger(asked) || asked < 1)) refuse("must be an integer >= 1");
  if (!sizes) {
    if (asked !== undefined && asked !== null && asked !== 1) refuse(why);
    return 1;
  }
  if (asked === undefined || asked === null) return sizes.defaultSize;
  // one record per call is what every flow does (a clone of a batch of such a flow inherits it)
  if (asked === 1 && (sizes.minSize ?? 1) <= 1) return 1;
  if (asked > sizes.maxSize) refuse(`at most ${sizes.maxSize} for flow ${JSON.stringify(flow.name)}${modeText(flow, parameters)}`);
  if (asked < (sizes.minSize ?? 1)) refuse(`at least ${sizes.minSize} for flow ${JSON.stringify(flow.name)}${modeText(flow, parameters)}`);
  return asked;
}

/** " in mode X" for a flow whose chunk sizes depend on a mode, else "". */
function modeText(flow: FlowDefinition, parameters: unknown): string {
  const declared = flow.chunk;
  if (!declared || !("modes" in declared)) return "";
  return ` with parameters.${declared.parameter} ${JSON.stringify((parameters as Record<string, unknown> | null)?.[declared.parameter])}`;
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
