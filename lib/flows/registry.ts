// Every flow Batchboard can run. Adding a flow: one file in lib/flows/ and one line here.
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { chaos } from "./chaos";
import { classify } from "./classify";
import { command } from "./command";
import { echo } from "./echo";
import { embed } from "./embed";
import { http } from "./http";
import { llm } from "./llm";
import { openai } from "./openai";
import { review } from "./review";
import { sleep } from "./sleep";
import type { FlowDefinition } from "./types";

const builtIn: FlowDefinition[] = [echo, sleep, chaos, http, llm, embed, openai, classify, review, command];

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

/** Validates batch parameters against a flow's schema: 422 with field paths under `parameters`. */
export function parseFlowParameters(flow: FlowDefinition, parameters: unknown): unknown {
  const parsed = flow.parameters.safeParse(parameters ?? {});
  if (parsed.success) return parsed.data;
  throw new AppError(
    "validation_failed",
    `parameters do not match flow ${JSON.stringify(flow.name)}`,
    parsed.error.issues.map((i) => ({ path: ["parameters", ...i.path.map(String)].join("."), message: i.message })),
  );
}

/** The flow's parameters as JSON Schema (GET /api/flows, the dashboard's generated form). */
export function flowParametersJsonSchema(flow: FlowDefinition): Record<string, unknown> {
  return z.toJSONSchema(flow.parameters, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
