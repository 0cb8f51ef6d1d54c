// The environment variables flows may read (BATCHBOARD_FLOW_SECRETS), checked when a batch is created
// and again when a job runs, and the one redaction that keeps their values out of everything stored
// (job errors, logs, results, prompts; exports are made from those).
import { z } from "zod";
import { flowSecretNames, flowSecretValue, modelRouteKeyNames } from "@/lib/config";
import { FlowError } from "./types";

// the server's own settings: a flow reading them could hand the database or an admin key to any URL
const NEVER_READABLE = /^(BATCHBOARD_|PG)|^DATABASE_URL$/i;

/** Below this a value cannot be told apart from ordinary text, so it could not be redacted. */
export const MIN_SECRET_LENGTH = 4;

export const REDACTED = "[redacted]";

/** Why a flow may not read the variable `name`, or null when it may. */
export function secretNameProblem(name: string, listed: readonly string[] = flowSecretNames()): string | null {
  if (NEVER_READABLE.test(name)) {
    return `${name} is one of the server's own settings (BATCHBOARD_*, DATABASE_URL, PG*), which flows can never read`;
  }
  if (!listed.includes(name)) {
    const which = listed.length ? `it lists ${listed.join(", ")}` : "it lists none";
    return `${name} is not in BATCHBOARD_FLOW_SECRETS, the environment variables flows may read (${which})`;
  }
  return null;
}

const SECRET_NAME_RULE =
  "the name of an environment variable listed in BATCHBOARD_FLOW_SECRETS on the server; any other (and BATCHBOARD_*, DATABASE_URL, PG* always) is refused";

/** An environment variable name in flow parameters: refused at batch creation unless flows may read it. */
export const secretEnvNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")
  .superRefine((name, ctx) => {
    const problem = secretNameProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe(SECRET_NAME_RULE);

/** A secret for a flow, at run time: the list may have changed since the batch was created. */
export function readFlowSecret(name: string): string {
  const problem = secretNameProblem(name);
  if (problem) throw new FlowError("secret_not_allowed", problem, { retryable: false });
  const value = flowSecretValue(name);
  if (value === undefined || value === "") {
    throw new FlowError("secret_missing", `environment variable ${name} is not set on the worker`, { retryable: false });
  }
  if (value.length < MIN_SECRET_LENGTH) {
    throw new FlowError("secret_invalid", `environment variable ${name} is shorter than ${MIN_SECRET_LENGTH} characters: too short to keep out of stored text`, {
      retryable: false,
    });
  }
  return value;
}

/**
 * The key of a provider batch's upstream, at run time: a variable listed in BATCHBOARD_FLOW_SECRETS
 * (a batch's api_key_env), or the key the operator gave a routed model (OPENAI_API_KEY, a
 * BATCHBOARD_MODEL_ROUTES entry's key=), which a batch never names itself.
 */
export function readProviderKey(name: string): string {
  if (!modelRouteKeyNames().includes(name)) return readFlowSecret(name);
  const value = flowSecretValue(name);
  if (!value) throw new FlowError("secret_missing", `environment variable ${name} is not set on the worker`, { retryable: false });
  return value;
}

let lastForms: { values: (string | undefined)[]; forms: string[] } | undefined;

/**
 * The values to redact, each as it appears in text and inside a JSON string (escaped). Read for every
 * stored result: the variables are looked up each time (an operator's change is seen at once) and the
 * forms made again only when a value changed.
 */
function secretForms(): string[] {
  const names = [...flowSecretNames().filter((name) => !NEVER_READABLE.test(name)), ...modelRouteKeyNames()];
  const values = names.map((name) => flowSecretValue(name));
  if (lastForms && lastForms.values.length === values.length && lastForms.values.every((v, i) => v === values[i])) return lastForms.forms;
  const forms = new Set<string>();
  // the /v1 upstreams' keys (operator configuration, never readable by flows) are kept out as well
  for (const value of values) {
    if (!value || value.length < MIN_SECRET_LENGTH) continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  // longest first: a secret that contains another is replaced whole
  lastForms = { values, forms: [...forms].sort((a, b) => b.length - a.length) };
  return lastForms.forms;
}

/** `text` with every readable secret's value replaced by [redacted]. */
export function redactSecrets(text: string, forms = secretForms()): string {
  let out = text;
  for (const f of forms) if (out.includes(f)) out = out.replaceAll(f, REDACTED);
  return out;
}

function redactValue(value: unknown, forms: string[]): unknown {
  if (typeof value === "string") return redactSecrets(value, forms);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, forms));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactSecrets(k, forms), redactValue(v, forms)]));
  }
  return value;
}

/**
 * JSON text with every readable secret's value redacted inside its strings and keys. The common
 * case (no secret in it) costs one substring search per secret and returns the text as it is.
 */
export function redactSecretsInJson(json: string): string {
  const forms = secretForms();
  if (!forms.some((f) => json.includes(f))) return json;
  return JSON.stringify(redactValue(JSON.parse(json), forms));
}
