// Where a /v1 batch request goes: the upstream picked by the request's `model` from
// BATCHBOARD_MODEL_ROUTES (first matching glob wins), else OPENAI_BASE_URL with OPENAI_API_KEY.
// Parsed here without reading the environment; lib/config.ts reads it and resolves the keys.

export interface Prices {
  /** price per million input (prompt) tokens */
  inputPer1m: number;
  /** price per million output (completion) tokens */
  outputPer1m: number;
}

/** One route as the operator wrote it. */
export interface RouteSpec {
  /** model glob: `*` any run of characters, `?` one character; `*` alone matches every model */
  pattern: string;
  baseUrl: string;
  /** the environment variable holding the upstream's API key; none: no Authorization header */
  keyEnv: string | null;
  prices: Prices;
}

/** A route with its key read: what the `openai` flow calls. */
export interface ModelRoute {
  /** the pattern that matched, or "default" (OPENAI_BASE_URL) */
  name: string;
  baseUrl: string;
  keyEnv: string | null;
  /** the key's value; undefined when keyEnv names an unset variable */
  apiKey: string | undefined;
  prices: Prices;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OPTION_KEYS = ["key", "input_per_1m", "output_per_1m"] as const;

/**
 * `pattern=url[;key=ENV_VAR][;input_per_1m=N][;output_per_1m=N]`, entries separated by commas or
 * new lines, e.g. `llama3*=http://localhost:11434/v1, gpt-*=https://api.openai.com/v1;key=OPENAI_API_KEY`.
 * Throws an Error naming the entry that cannot be read.
 */
export function parseModelRoutes(text: string | undefined): RouteSpec[] {
  if (!text || !text.trim()) return [];
  return text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter(Boolean)
    .map((entry) => {
      const fail = (why: string) => new Error(`BATCHBOARD_MODEL_ROUTES entry ${JSON.stringify(entry)}: ${why}`);
      const eq = entry.indexOf("=");
      if (eq <= 0) throw fail("expected model-glob=base-url");
      const pattern = entry.slice(0, eq).trim();
      const [rawUrl = "", ...options] = entry.slice(eq + 1).split(";").map((p) => p.trim());
      let url: URL;
      try {
        url = new URL(rawUrl);
      } catch {
        throw fail(`${JSON.stringify(rawUrl)} is not a URL`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") throw fail("the base URL must be http or https");
      const spec: RouteSpec = { pattern, baseUrl: rawUrl.replace(/\/+$/, ""), keyEnv: null, prices: { inputPer1m: 0, outputPer1m: 0 } };
      for (const option of options.filter(Boolean)) {
        const [name = "", value = ""] = option.split("=").map((p) => p.trim());
        if (!(OPTION_KEYS as readonly string[]).includes(name)) throw fail(`unknown option ${JSON.stringify(name)} (known: ${OPTION_KEYS.join(", ")})`);
        if (name === "key") {
          if (!ENV_NAME.test(value)) throw fail(`key= takes an environment variable name, got ${JSON.stringify(value)}`);
          spec.keyEnv = value;
        } else {
          const n = Number(value);
          if (value === "" || !Number.isFinite(n) || n < 0) throw fail(`${name} must be a number >= 0`);
          spec.prices[name === "input_per_1m" ? "inputPer1m" : "outputPer1m"] = n;
        }
      }
      return spec;
    });
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

/** The first route whose pattern matches `model`; a request without a string model matches only `*`. */
export function matchRoute<R extends { pattern: string }>(routes: readonly R[], model: unknown): R | undefined {
  const name = typeof model === "string" ? model : "";
  return routes.find((r) => (typeof model === "string" ? globToRegExp(r.pattern).test(name) : r.pattern === "*"));
}

/** The upstream path of a /v1 endpoint under a base URL that ends in its API root (…/v1). */
export function upstreamUrl(baseUrl: string, endpoint: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/${endpoint.replace(/^\/v1\//, "")}`;
}
