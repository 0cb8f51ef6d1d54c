// Reads the JSON Schema that GET /api/flows gives for a flow's parameters (zod's toJSONSchema) into
// form fields: one field per top-level property, JSON text for anything nested.
import type { JsonSchema } from "./types";

export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum" | "json";

export interface SchemaField {
  name: string;
  kind: FieldKind;
  schema: JsonSchema;
  required: boolean;
  nullable: boolean;
  options: string[];
  description?: string;
  default?: unknown;
  typeLabel: string;
}

/** Unwraps `anyOf: [X, {type: "null"}]` (optional/nullable in zod) to X. */
function unwrap(schema: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) {
    const nonNull = alts.filter((a) => a.type !== "null");
    if (nonNull.length === 1 && nonNull[0]) {
      const inner = unwrap(nonNull[0]);
      return {
        schema: { ...inner.schema, description: schema.description ?? inner.schema.description, default: schema.default ?? inner.schema.default },
        nullable: alts.length > nonNull.length || inner.nullable,
      };
    }
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== "null");
    if (types.length === 1) return { schema: { ...schema, type: types[0] }, nullable: types.length < schema.type.length };
  }
  return { schema, nullable: false };
}

function kindOf(s: JsonSchema): FieldKind {
  if (s.enum && s.enum.every((v) => typeof v === "string")) return "enum";
  if (s.const !== undefined && typeof s.const === "string") return "enum";
  switch (s.type) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

function typeLabelOf(s: JsonSchema, kind: FieldKind): string {
  if (kind === "enum") return (s.enum ?? [s.const]).map((v) => JSON.stringify(v)).join(" | ");
  if (kind === "json") {
    if (s.type === "array") return s.items?.type ? `${String(s.items.type)}[]` : "array";
    return typeof s.type === "string" ? s.type : "any";
  }
  // zod's int() adds ±MAX_SAFE_INTEGER bounds that say nothing to a reader
  const min = s.minimum !== undefined && Math.abs(s.minimum) < Number.MAX_SAFE_INTEGER ? s.minimum : undefined;
  const max = s.maximum !== undefined && Math.abs(s.maximum) < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  const range =
    min !== undefined && max !== undefined ? ` ${min}..${max}` : min !== undefined ? ` ≥ ${min}` : max !== undefined ? ` ≤ ${max}` : "";
  const fmt = s.format ? ` (${s.format})` : "";
  return `${kind}${range}${fmt}`;
}

export function schemaFields(schema: JsonSchema | undefined): SchemaField[] {
  if (!schema?.properties) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, raw]) => {
    const { schema: s, nullable } = unwrap(raw);
    const kind = kindOf(s);
    return {
      name,
      kind,
      schema: s,
      // zod marks defaulted fields required on input only when they have no default
      required: required.has(name) && s.default === undefined,
      nullable,
      options: kind === "enum" ? ((s.enum ?? [s.const]) as string[]) : [],
      description: s.description ?? s.title,
      default: s.default,
      typeLabel: typeLabelOf(s, kind),
    };
  });
}

export type FieldValues = Record<string, string | boolean>;

export function initialValues(fields: SchemaField[]): FieldValues {
  const out: FieldValues = {};
  for (const f of fields) {
    if (f.kind === "boolean") out[f.name] = f.default === true;
    else if (f.default === undefined || f.default === null) out[f.name] = "";
    else if (f.kind === "json") out[f.name] = JSON.stringify(f.default, null, 2);
    else out[f.name] = String(f.default);
  }
  return out;
}

/** A batch's parameters as form values (what the form would have held to create it). */
export function valuesFromParameters(fields: SchemaField[], parameters: unknown): FieldValues {
  const given = (parameters && typeof parameters === "object" ? parameters : {}) as Record<string, unknown>;
  const out = initialValues(fields);
  for (const f of fields) {
    const v = given[f.name];
    if (v === undefined || v === null) continue;
    if (f.kind === "boolean") out[f.name] = v === true;
    else if (f.kind === "json") out[f.name] = JSON.stringify(v, null, 2);
    else out[f.name] = String(v);
  }
  return out;
}

/** Form values -> parameters, with errors keyed by the wire's paths ("parameters.url"). */
export function buildParameters(
  fields: SchemaField[],
  values: FieldValues,
): { parameters: Record<string, unknown>; errors: Record<string, string> } {
  const parameters: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.name];
    const path = `parameters.${f.name}`;
    if (f.kind === "boolean") {
      parameters[f.name] = v === true;
      continue;
    }
    const text = typeof v === "string" ? v.trim() : "";
    if (text === "") {
      if (f.required) errors[path] = "Required";
      continue;
    }
    if (f.kind === "number" || f.kind === "integer") {
      const n = Number(text);
      if (!Number.isFinite(n)) errors[path] = "Must be a number";
      else if (f.kind === "integer" && !Number.isInteger(n)) errors[path] = "Must be a whole number";
      else if (f.schema.minimum !== undefined && n < f.schema.minimum) errors[path] = `Must be at least ${f.schema.minimum}`;
      else if (f.schema.maximum !== undefined && n > f.schema.maximum) errors[path] = `Must be at most ${f.schema.maximum}`;
      else parameters[f.name] = n;
    } else if (f.kind === "json") {
      try {
        parameters[f.name] = JSON.parse(text);
      } catch (e) {
        errors[path] = `Not valid JSON: ${(e as Error).message}`;
      }
    } else {
      parameters[f.name] = typeof v === "string" ? v : "";
    }
  }
  return { parameters, errors };
}
