// Every environment variable Batchboard reads, each declared once below with its meaning (the doc
// comment) and its default (the schema's, or an @default tag). docs/operations.md's table is
// generated from this file: after a change run `npx tsx scripts/env-table.ts --write`.
import { z } from "zod";
import { perMinuteSchema, rateLimitKeySchema } from "./contract/rate-limits";
import { matchRoute, parseModelRoutes, type ModelRoute } from "./openai/routes";

const bool = (fallback: boolean) =>
  z
    .enum(["1", "0", "true", "false", "on", "off", "yes", "no", ""])
    .optional()
    .transform((v) => (v === undefined || v === "" ? fallback : ["1", "true", "on", "yes"].includes(v)));

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).optional().default(fallback);

const declaredRatesSchema = z
  .strictObject({ requests_per_minute: perMinuteSchema.optional(), tokens_per_minute: perMinuteSchema.optional() })
  .refine((r) => r.requests_per_minute !== undefined || r.tokens_per_minute !== undefined, "give requests_per_minute, tokens_per_minute or both");
export type DeclaredRates = z.infer<typeof declaredRatesSchema>;

function parseRateLimits(raw: string | undefined): Map<string, DeclaredRates> {
  if (!raw || raw.trim() === "") return new Map();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`not JSON: write {"openai:gpt-4o-mini": {"requests_per_minute": 500, "tokens_per_minute": 200000}}`);
  }
  const parsed = z.record(rateLimitKeySchema, declaredRatesSchema).safeParse(json);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return new Map(Object.entries(parsed.data));
}

const configSchema = z.object({
  /**
   * PostgreSQL connection URL
   * @default unset: `npm start` runs an embedded PostgreSQL
   */
  DATABASE_URL: z.string().min(1).optional(),
  /** where the embedded PostgreSQL keeps its cluster (`pg/`) */
  BATCHBOARD_DATA_DIR: z.string().min(1).default(".data"),
  /** HTTP port of the server */
  PORT: int(3000, 1),
  /** run the worker inside the Next.js server (the single-machine default); `0` when only `npm run worker` processes should run jobs */
  BATCHBOARD_WORKER: bool(true),
  /** jobs one worker process runs at once, across all batches */
  BATCHBOARD_WORKER_CONCURRENCY: int(64, 1),
  /**
   * named rate limits batches share by key, as JSON: `{"openai:gpt-4o-mini": {"requests_per_minute": 500, "tokens_per_minute": 200000}}`;
   * a batch naming such a key gets these rates, or its own where lower (docs/rate-limits.md)
   */
  BATCHBOARD_RATE_LIMITS: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      try {
        parseRateLimits(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    }),
  /** shared secret (16+ characters) for `POST /api/worker/run` (cron-driven deployments); unset disables that route */
  BATCHBOARD_WORKER_SECRET: z.string().min(16).optional(),
  /** how long a claimed job's lease holds without a heartbeat */
  BATCHBOARD_LEASE_MS: int(30_000, 1000),
  /** how long a stopping worker (SIGINT, SIGTERM) lets running jobs finish before it hands the rest back */
  BATCHBOARD_SHUTDOWN_GRACE_MS: int(10_000),
  /** how soon a batch sent to a provider's batch tier (mode provider_batch) is polled first; each later poll waits 1.5 times longer */
  BATCHBOARD_PROVIDER_POLL_MS: int(10_000, 10),
  /** the longest wait between two polls of a provider batch */
  BATCHBOARD_PROVIDER_POLL_MAX_MS: int(300_000, 10),
  /**
   * how long a submission to a provider's batch tier is held for its submitter: renewed every third
   * of it while the submitter runs; once it lapses (the submitter died) the submission is recovered,
   * found at the provider by its metadata and adopted, or sent again
   */
  BATCHBOARD_PROVIDER_SUBMIT_HOLD_MS: int(60_000, 100),
  /** finished batches older than this many days are deleted; `0` keeps everything */
  BATCHBOARD_RETENTION_DAYS: int(30),
  /**
   * HMAC-SHA256 key that signs completion webhooks
   * @default generated once and kept in the database
   */
  BATCHBOARD_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** `off` disables authentication for local experiments (every page then shows a warning) */
  BATCHBOARD_AUTH: z.enum(["on", "off"]).default("on"),
  /** a token (16+ characters) accepted as an admin API key; when set, no initial key is created at first start */
  BATCHBOARD_ADMIN_TOKEN: z.string().min(16).optional(),
  /** mutating requests per second per caller, with bursts of twice that; over it, 429 with `Retry-After` */
  BATCHBOARD_RATE_LIMIT_PER_SECOND: int(50, 1),
  /** failed authentications (wrong API key, sign-in or one-time link) one client address may make per window; past it, 429 */
  BATCHBOARD_AUTH_FAILURE_LIMIT: int(10, 1),
  /** the window those failures are counted in; an address over the limit is answered 429 until its window ends */
  BATCHBOARD_AUTH_FAILURE_WINDOW_MS: int(60_000, 100),
  /**
   * the interface the server listens on (`0.0.0.0`, `::`, an address)
   * @default unset: 127.0.0.1 with BATCHBOARD_AUTH=off, every interface otherwise
   */
  BATCHBOARD_HOST: z.string().min(1).optional(),
  /**
   * host names the server answers to (the `Host` header, or `X-Forwarded-Host` behind a trusted proxy), comma separated; others get 403
   * @default unset: `localhost`, `127.0.0.1` and `[::1]` only with BATCHBOARD_AUTH=off, any otherwise
   */
  BATCHBOARD_ALLOWED_HOSTS: z.string().optional(),
  /** behind a reverse proxy: take the client address from the last `X-Forwarded-For` entry and the host from `X-Forwarded-Host` (otherwise both are ignored) */
  BATCHBOARD_TRUST_PROXY: bool(false),
  /** allow the `command` flow, which runs shell commands as the server's user */
  BATCHBOARD_ENABLE_COMMAND_FLOW: bool(false),
  /**
   * the directory the `/batch` job API and the `files` flow work in; paths in requests stay inside it
   * @default unset: those endpoints answer 422
   */
  BATCHBOARD_WORKSPACE_DIR: z.string().min(1).optional(),
  /**
   * the directory each `/batch/agent-tasks` task's workspace starts as a copy of (a project skeleton)
   * @default unset: each task starts in an empty directory
   */
  BATCHBOARD_AGENT_TEMPLATE_DIR: z.string().min(1).optional(),
  /**
   * hosts the `http`, `llm` and `embed` flows and webhooks may call, private or not (`host`, `host:port`,
   * `*.example.com` or an origin; comma or space separated)
   * @default unset: any public address, no private one
   */
  BATCHBOARD_HTTP_ALLOWLIST: z.string().optional(),
  /**
   * the environment variables flows may read (`http` headers `{"env": …}`, `llm`/`embed` `api_key_env`),
   * comma separated; `BATCHBOARD_*`, `DATABASE_URL` and `PG*` are never readable, even when listed
   * @default unset: none
   */
  BATCHBOARD_FLOW_SECRETS: z.string().optional(),
  /** largest accepted JSON request body */
  BATCHBOARD_MAX_BODY_BYTES: int(64 * 1024 * 1024, 1024),
  /** largest accepted dataset upload; for a dataset of files, also the most bytes its files may hold unpacked */
  BATCHBOARD_MAX_UPLOAD_BYTES: int(1024 * 1024 * 1024, 1024),
  /** largest file in a dataset of files (a zip's entries unpacked): what one record may hand a model */
  BATCHBOARD_MAX_FILE_BYTES: int(32 * 1024 * 1024, 1024),
  /** most files in one dataset of files (a zip's entries included) */
  BATCHBOARD_MAX_DATASET_FILES: int(10_000, 1),
  /** a zip entry unpacking to more than this many times its compressed size (past 1 MiB) is refused as a zip bomb */
  BATCHBOARD_MAX_ZIP_RATIO: int(100, 1),
  /** most records given inline to `POST /api/batches` */
  BATCHBOARD_MAX_INLINE_RECORDS: int(100_000, 1),
  /** most jobs in one batch */
  BATCHBOARD_MAX_RECORDS_PER_BATCH: int(1_000_000, 1),
  /** load the `demo-reviews` dataset at first start */
  BATCHBOARD_LOAD_DEMO: bool(true),
  // ---- the database pools (docs/operations.md: "Connections and timeouts")
  /** connections in a process's main pool (API requests and the in-process worker; or a standalone worker) */
  BATCHBOARD_DB_POOL_SIZE: int(10, 1),
  /** how long a request waits for a free pooled connection before it is answered 503 */
  BATCHBOARD_DB_CONNECT_TIMEOUT_MS: int(5_000, 100),
  /** statement_timeout of the Next.js server's pool: API requests and its in-process worker */
  BATCHBOARD_DB_STATEMENT_TIMEOUT_MS: int(60_000),
  /** statement_timeout of a standalone worker's pool (`npm run worker`) */
  BATCHBOARD_WORKER_STATEMENT_TIMEOUT_MS: int(300_000),
  /** statement_timeout of the import pool; 0 (the default) is none: an upload's COPY lasts as long as the upload */
  BATCHBOARD_IMPORT_STATEMENT_TIMEOUT_MS: int(0),
  /** idle_in_transaction_session_timeout of every pool: a transaction left waiting on the app ends */
  BATCHBOARD_DB_IDLE_IN_TRANSACTION_MS: int(60_000, 1000),
  /** imports (dataset uploads and large inline batches) running at once; more wait in line */
  BATCHBOARD_IMPORT_CONCURRENCY: int(4, 1),
  /** how long an import waits in line for one of those places before it is answered 503 */
  BATCHBOARD_IMPORT_WAIT_MS: int(30_000, 0),
  /** a request body (upload or JSON) with nothing sent for this long is dropped with 408; also the rate's window */
  BATCHBOARD_UPLOAD_IDLE_TIMEOUT_MS: int(30_000, 100),
  /** a request body slower than this over such a window is dropped with 408 */
  BATCHBOARD_UPLOAD_MIN_BYTES_PER_SECOND: int(1024),
  // ---- the OpenAI-compatible Batch API (/v1)
  /** the upstream of /v1 batch requests no BATCHBOARD_MODEL_ROUTES entry matches (the variable the OpenAI SDKs read) */
  OPENAI_BASE_URL: z.string().regex(/^https?:\/\//i, "must start with http:// or https://").default("https://api.openai.com/v1"),
  /** the API key sent to OPENAI_BASE_URL; unset: no Authorization header (local servers) */
  OPENAI_API_KEY: z.string().optional(),
  /** /v1 batch upstreams by model glob: `llama3*=http://localhost:11434/v1;key=VAR;input_per_1m=N;output_per_1m=N` */
  BATCHBOARD_MODEL_ROUTES: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      try {
        parseModelRoutes(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    }),
  /** the directory `next build` writes to and `npm start` serves from; lets two builds coexist in one checkout */
  NEXT_DIST_DIR: z.string().min(1).default(".next"),
});

export type Config = z.infer<typeof configSchema>;
export const CONFIG_VARIABLES = Object.keys(configSchema.shape) as (keyof Config)[];

/** The one error for invalid settings: each problem on its own line, after the variable it is about. */
function invalidEnvironment(problems: { variable: string; message: string }[]): Error {
  return new Error(`Invalid environment:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}`);
}

function parse(env: NodeJS.ProcessEnv): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) throw invalidEnvironment(parsed.error.issues.map((i) => ({ variable: i.path.join("."), message: i.message })));
  return parsed.data;
}

let cached: { raw: (string | undefined)[]; config: Config } | undefined;

/**
 * The validated configuration. process.env may change after the first read (the embedded database
 * sets DATABASE_URL once it runs; tests switch settings), so it is parsed again when a declared
 * variable's raw value differs from the last parse.
 */
export function getConfig(env: NodeJS.ProcessEnv = process.env): Config {
  if (env !== process.env) return parse(env);
  const raw = CONFIG_VARIABLES.map((name) => env[name]);
  if (!cached || raw.some((value, i) => value !== cached!.raw[i])) cached = { raw, config: parse(env) };
  return cached.config;
}

const readOne = new Map<keyof Config, { raw: string | undefined; value: unknown }>();

/**
 * One variable's validated value, parsed again only when its raw text changed. What runs once per
 * job reads through this: getConfig() looks up every declared variable in process.env (each lookup
 * crosses into the runtime) to see whether one changed.
 */
export function configValue<K extends keyof Config>(name: K, env: NodeJS.ProcessEnv = process.env): Config[K] {
  const raw = env[name];
  const hit = env === process.env ? readOne.get(name) : undefined;
  if (hit && hit.raw === raw) return hit.value as Config[K];
  const parsed = configSchema.shape[name].safeParse(raw);
  if (!parsed.success) throw invalidEnvironment(parsed.error.issues.map((i) => ({ variable: name, message: i.message })));
  if (env === process.env) readOne.set(name, { raw, value: parsed.data });
  return parsed.data as Config[K];
}

/** What each variable is when unset (the table in docs/operations.md shows these). */
export function configDefaults(): Config {
  return configSchema.parse({});
}

/** The operator's named rate limits (BATCHBOARD_RATE_LIMITS), by key. */
export function declaredRateLimits(env: NodeJS.ProcessEnv = process.env): Map<string, DeclaredRates> {
  return parseRateLimits(getConfig(env).BATCHBOARD_RATE_LIMITS);
}

/** BATCHBOARD_FLOW_SECRETS as a list of names. */
export function flowSecretNames(env: NodeJS.ProcessEnv = process.env): string[] {
  return (configValue("BATCHBOARD_FLOW_SECRETS", env) ?? "")
    .split(/[,\s]+/)
    .map((n) => n.trim())
    .filter(Boolean);
}

/** The value of an environment variable a flow may read; callers check the name (lib/flows/secrets.ts). */
export function flowSecretValue(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[name];
}

/**
 * The upstream for a /v1 batch request with this `model`: the first BATCHBOARD_MODEL_ROUTES entry whose
 * glob matches, with its key read from the variable the entry names, else OPENAI_BASE_URL with
 * OPENAI_API_KEY. Only variables the operator named are read; a request never chooses one.
 */
export function routeForModel(model: unknown, env: NodeJS.ProcessEnv = process.env): ModelRoute {
  const config = getConfig(env);
  const spec = matchRoute(parseModelRoutes(config.BATCHBOARD_MODEL_ROUTES), model);
  if (spec) {
    const apiKey = spec.keyEnv ? env[spec.keyEnv] || undefined : undefined;
    return { name: spec.pattern, baseUrl: spec.baseUrl, keyEnv: spec.keyEnv, apiKey, prices: spec.prices };
  }
  return {
    name: "default",
    baseUrl: config.OPENAI_BASE_URL.replace(/\/+$/, ""),
    keyEnv: config.OPENAI_API_KEY ? "OPENAI_API_KEY" : null,
    apiKey: config.OPENAI_API_KEY || undefined,
    prices: { inputPer1m: 0, outputPer1m: 0 },
  };
}

let routeKeyNames: { routes: string | undefined; names: string[] } | undefined;

/** The variables holding the upstream keys of /v1 batches and routed models: OPENAI_API_KEY and each route's. */
export function modelRouteKeyNames(env: NodeJS.ProcessEnv = process.env): string[] {
  const routes = configValue("BATCHBOARD_MODEL_ROUTES", env);
  if (!routeKeyNames || routes !== routeKeyNames.routes) routeKeyNames = { routes, names: ["OPENAI_API_KEY", ...parseModelRoutes(routes).flatMap((r) => (r.keyEnv ? [r.keyEnv] : []))] };
  return routeKeyNames.names;
}

export const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/** The host names requests may name, lower case; null when any is accepted (BATCHBOARD_ALLOWED_HOSTS). */
export function allowedHosts(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const config = getConfig(env);
  const listed = (config.BATCHBOARD_ALLOWED_HOSTS ?? "")
    .split(/[,\s]+/)
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (listed.length) return [...new Set([...LOOPBACK_HOSTS, ...listed])];
  return config.BATCHBOARD_AUTH === "off" ? LOOPBACK_HOSTS : null;
}

/** The interface to listen on; undefined is every interface (BATCHBOARD_HOST). */
export function listenHost(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const config = getConfig(env);
  return config.BATCHBOARD_HOST ?? (config.BATCHBOARD_AUTH === "off" ? "127.0.0.1" : undefined);
}
