import { NextResponse } from "next/server";
import { route } from "@/lib/api/handler";
import { getHealthPool, HEALTH_TIMEOUT_MS, openPools, poolLoad } from "@/lib/db/client";
import { importLoad } from "@/lib/db/imports";
import { currentMigration } from "@/lib/db/migrate";
import { ping } from "@/lib/db/sql/health";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/health – 200 when the database answers, 503 when it does not; with the pools' load.
// It asks on a connection of its own: a busy pool is load to report, not a dead database.
export const GET = route("GET /api/health", async () => {
  const { main, import: imports } = openPools();
  const load = { pool: poolLoad(main), import_pool: poolLoad(imports), imports: importLoad() };
  try {
    const pool = getHealthPool();
    await Promise.race([
      ping(pool),
      new Promise((_, reject) => setTimeout(() => reject(new Error("database timeout")), HEALTH_TIMEOUT_MS)),
    ]);
    const migration = await currentMigration(pool);
    return NextResponse.json({ status: "ok", database: "up", migration, ...load });
  } catch (err) {
    return NextResponse.json(
      { status: "unavailable", database: "down", migration: null, message: (err as Error).message, ...load },
      { status: 503 },
    );
  }
});
