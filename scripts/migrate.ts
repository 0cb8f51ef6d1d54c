// `npm run db:migrate`: apply pending migrations to DATABASE_URL (or the embedded database).
import { ensureDatabase } from "@/lib/db/ensure";

const db = await ensureDatabase((line) => console.log(`[migrate] ${line}`));
console.log(
  db.migrations.applied.length
    ? `[migrate] applied: ${db.migrations.applied.join(", ")}`
    : `[migrate] up to date (${db.migrations.current ?? "no migrations"})`,
);
await db.embedded?.stop();
