// Prisma CLI configuration. The app applies migrations itself (lib/db/migrate.ts), so the CLI is
// only used for `prisma generate` (scripts/prisma-generate.mjs) and, where its schema engine can be
// downloaded, for `prisma migrate status`, which agrees with what the app recorded.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/batchboard" },
});
