// {{record.field}} templates for flow parameters (URLs, prompts, bodies, command lines).
// A placeholder naming a field the record lacks fails the job for good (retrying cannot help),
// rather than silently sending an empty string to an API or a shell.
import { FlowError } from "./types";
import type { FlowRecord } from "./types";

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
/** The placeholder syntax, for code that must find placeholders exactly as rendering does. */
export const PLACEHOLDER_PATTERN = PLACEHOLDER.source;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;

/** Placeholders a template may use: {{record}}, {{record.a.b}}, {{record_id}}. */
export function lookupPlaceholder(expr: string, record: FlowRecord): unknown {
  if (expr === "record_id") return record.id;
  if (expr === "record") return record.data;
  if (!expr.startsWith("record.")) {
    throw new FlowError("template_invalid", `unknown placeholder {{${expr}}}: use {{record}}, {{record.field}} or {{record_id}}`, {
      retryable: false,
    });
  }
  let value: unknown = record.data;
  for (const key of expr.slice("record.".length).split(".")) {
    if (value === null || typeof value !== "object" || !(key in (value as object))) {
      throw new FlowError("template_field_missing", `record ${JSON.stringify(record.id)} has no field "${expr.slice(7)}" (used as {{${expr}}})`, {
        retryable: false,
      });
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A value as template text: strings as they are, everything else as JSON. */
export function templateText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value);
}

/**
 * Renders a string template. `escape` transforms each substituted value (encodeURIComponent
 * for URLs, shell quoting for commands); literal text is left alone.
 */
export function renderTemplate(template: string, record: FlowRecord, escape: (text: string) => string = (t) => t): string {
  return template.replace(PLACEHOLDER, (_m, expr: string) => escape(templateText(lookupPlaceholder(expr, record))));
}

/**
 * Renders a JSON template: strings inside are rendered; a string that is exactly one placeholder
 * ("{{record.tags}}") becomes the value itself, keeping its JSON type.
 */
export function renderJsonTemplate(template: unknown, record: FlowRecord): unknown {
  if (typeof template === "string") {
    const whole = WHOLE.exec(template);
    return whole ? lookupPlaceholder(whole[1]!, record) : renderTemplate(template, record);
  }
  if (Array.isArray(template)) return template.map((t) => renderJsonTemplate(t, record));
  if (template !== null && typeof template === "object") {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderJsonTemplate(v, record)]));
  }
  return template;
}

/** Quotes a value for a POSIX shell: one single-quoted word whatever it contains. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * Renders a chunked request's JSON template: a string that is exactly {{records}} becomes the items,
 * {{record_ids}} the records' ids; any other placeholder names one record, which a chunk has not.
 */
export function renderChunkJsonTemplate(template: unknown, items: unknown[], ids: string[]): unknown {
  if (typeof template === "string") {
    const whole = WHOLE.exec(template);
    if (whole?.[1] === "records") return items;
    if (whole?.[1] === "record_ids") return ids;
    if (new RegExp(PLACEHOLDER.source).test(template)) {
      throw new FlowError("template_invalid", `${JSON.stringify(template)}: a chunked body takes only "{{records}}" and "{{record_ids}}", each as a whole string`, {
        retryable: false,
      });
    }
    return template;
  }
  if (Array.isArray(template)) return template.map((t) => renderChunkJsonTemplate(t, items, ids));
  if (template !== null && typeof template === "object") {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderChunkJsonTemplate(v, items, ids)]));
  }
  return template;
}
