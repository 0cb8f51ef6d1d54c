// The OpenAPI 3.1 document, rendered from the route registry (./routes) and the same zod schemas the
// routes validate with.
import "server-only";
import { COMPONENTS, ref, toSchema, type JsonSchema } from "./openapi-schemas";
import { API_ROUTES, type ApiOperation } from "./routes";

function parametersOf(op: ApiOperation): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, obj] of [["path", op.params], ["query", op.query]] as const) {
    if (!obj) continue;
    const json = toSchema(obj, "output") as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = schema;
      out.push({
        name,
        in: where,
        required: where === "path" || ((json.required ?? []).includes(name) && !("default" in schema)),
        ...(description ? { description } : {}),
        schema: rest,
        ...(rest.type === "array" ? { style: "form", explode: true } : {}),
      });
    }
  }
  for (const h of op.headers ?? []) out.push({ name: h.name, in: "header", required: false, description: h.description, schema: { type: "string" } });
  return out;
}

function operationOf(op: ApiOperation): JsonSchema {
  // /v1 answers in OpenAI's shapes: its error body adds OpenAI's type and param to ours
  const v1 = op.path.startsWith("/v1/");
  const error = v1
    ? { description: "the error body: ours and OpenAI's fields in one", content: { "application/json": { schema: { $ref: "#/components/schemas/V1Error" } } } }
    : { description: "the error body", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  const ok: JsonSchema = { description: op.ok.description };
  if (op.ok.schema) ok.content = { [op.ok.contentType ?? "application/json"]: { schema: ref(op.ok.schema) } };
  const operation: JsonSchema = {
    operationId: `${v1 ? "v1" : ""}${op.method}${op.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    summary: op.summary,
    ...(v1 ? { tags: ["OpenAI-compatible"] } : {}),
    // "secret" routes take the worker secret as their bearer, not an API key
    "x-scope": op.scope === "secret" ? "public" : op.scope,
    ...(op.scope === "public" || op.scope === "secret" ? { security: [] } : {}),
    parameters: parametersOf(op),
    responses: { [String(op.ok.status)]: ok, "4XX": error, "500": error },
  };
  if (op.body) {
    operation.requestBody =
      "schema" in op.body
        ? { required: op.body.required ?? false, content: { "application/json": { schema: ref(op.body.schema) } } }
        : { required: true, description: op.body.description, content: op.body.content };
  }
  return operation;
}

let cached: JsonSchema | undefined;

export function openApiDocument(): JsonSchema {
  if (cached) return cached;
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of API_ROUTES) (paths[op.path] ??= {})[op.method] = operationOf(op);
  cached = {
    openapi: "3.1.0",
    info: {
      title: "Batchboard API",
      version: "1",
      description:
        "Run one flow over every record of a dataset. JSON is snake_case; every error is { error: { code, message, details } }. Lists are { items, next_cursor, total } with ?limit=&cursor=. Under /v1, an OpenAI-compatible Batch API (files and batches) with OpenAI's objects; its errors carry OpenAI's type and param too.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: Object.fromEntries(COMPONENTS.map(([name, s, io]) => [name, toSchema(s, io)])),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "an API key" } },
    },
  };
  return cached;
}
