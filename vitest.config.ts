import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "@": path.resolve(import.meta.dirname),
      // `server-only` throws outside Next's react-server build; in tests it is a no-op, as on the server
      "server-only": path.resolve(import.meta.dirname, "test/helpers/empty.ts"),
    },
  },
  test: {
    include: ["lib/**/*.test.ts", "test/**/*.test.ts", "app/**/*.test.ts", "components/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // each file gets its own database (test/helpers/db.ts), so files run in parallel processes
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
