import { defineConfig, devices } from "@playwright/test";

const PORT = Number(process.env.E2E_PORT ?? 3100);
/** the second server, with authentication on */
export const AUTH_PORT = PORT + 50;
export const E2E_ADMIN_TOKEN = "e2e-admin-token-not-a-secret-0123456789";
/** the OpenAI-compatible upstream the /v1 specs stand up on 127.0.0.1 (e2e/api/openai-batch.spec.ts) */
export const OPENAI_MOCK_PORT = PORT + 25;
/** the workspace of the /batch job API (e2e/api/job-queue.spec.ts lays it out) */
export const E2E_WORKSPACE_DIR = `${process.env.E2E_DATA_DIR || ".data/e2e"}-workspace`;
export const OPENAI_MOCK_KEYS = { default: "e2e-upstream-key-not-a-secret", embeddings: "e2e-embeddings-key-not-a-secret" };
const executablePath = process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE || undefined;

export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath,
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
  webServer: [
    {
      // the production build, on its own embedded database (scripts/e2e.mjs empties .data/e2e first)
      command: "npx tsx scripts/serve.ts start",
      url: `http://localhost:${PORT}/api/health`,
      timeout: 240_000,
      reuseExistingServer: false,
      // as Ctrl-C would: the worker hands back, then Next.js and the database stop (a SIGKILL would leave
      // the database, which runs in a process group of its own, behind)
      gracefulShutdown: { signal: "SIGTERM", timeout: 30_000 },
      stdout: "pipe",
      stderr: "pipe",
      env: {
        PORT: String(PORT),
        BATCHBOARD_DATA_DIR: process.env.E2E_DATA_DIR || ".data/e2e",
        BATCHBOARD_AUTH: "off",
        // specs stand up local HTTP servers in place of outside services (an upstream, an LLM, a webhook receiver)
        BATCHBOARD_HTTP_ALLOWLIST: "127.0.0.1,localhost",
        // e2e/security/slow-upload.spec.ts trickles an upload: judge its rate over 3 s, not 30
        BATCHBOARD_UPLOAD_IDLE_TIMEOUT_MS: "3000",
        // e2e/ui/provider-batches.spec.ts: poll provider batches every 0.5 s to 1 s, not 10 s backing off to 5 min
        BATCHBOARD_PROVIDER_POLL_MS: "500",
        BATCHBOARD_PROVIDER_POLL_MAX_MS: "1000",
        // /v1 batches go to the mock upstream; models e2e-emb-* to its /emb prefix with a key of their own
        OPENAI_BASE_URL: `http://127.0.0.1:${OPENAI_MOCK_PORT}/v1`,
        OPENAI_API_KEY: OPENAI_MOCK_KEYS.default,
        E2E_EMBEDDINGS_KEY: OPENAI_MOCK_KEYS.embeddings,
        BATCHBOARD_MODEL_ROUTES: `e2e-emb-*=http://127.0.0.1:${OPENAI_MOCK_PORT}/emb/v1;key=E2E_EMBEDDINGS_KEY;input_per_1m=1000`,
        // the /batch job API runs its check, test and file commands here (e2e/api/job-queue.spec.ts)
        BATCHBOARD_WORKSPACE_DIR: E2E_WORKSPACE_DIR,
        BATCHBOARD_ENABLE_COMMAND_FLOW: "1",
        ...(process.env.E2E_DATABASE_URL ? { DATABASE_URL: process.env.E2E_DATABASE_URL } : {}),
      },
    },
    {
      // the same build with authentication on (e2e/auth.spec.ts), on a database of its own
      command: "npx tsx scripts/serve.ts start",
      url: `http://localhost:${AUTH_PORT}/api/health`,
      timeout: 240_000,
      reuseExistingServer: false,
      // as Ctrl-C would: the worker hands back, then Next.js and the database stop (a SIGKILL would leave
      // the database, which runs in a process group of its own, behind)
      gracefulShutdown: { signal: "SIGTERM", timeout: 30_000 },
      stdout: "pipe",
      stderr: "pipe",
      env: {
        PORT: String(AUTH_PORT),
        BATCHBOARD_DATA_DIR: `${process.env.E2E_DATA_DIR || ".data/e2e"}-auth`,
        BATCHBOARD_AUTH: "on",
        BATCHBOARD_ADMIN_TOKEN: E2E_ADMIN_TOKEN,
        BATCHBOARD_WORKER: "0",
        BATCHBOARD_LOAD_DEMO: "0",
        // command execution stays off here: the /batch job API refuses with a 422
        BATCHBOARD_WORKSPACE_DIR: E2E_WORKSPACE_DIR,
      },
    },
  ],
});
