import { NextResponse } from "next/server";
import { getPool } from "@/lib/db/client";
import { currentMigration } from "@/lib/db/migrate";

export const dynamic = "force-dynamic";

// GET /api/health – 200 when the database answers, 503 when it does not
export async function GET() {
  try {
    const pool = getPool();
    await Promise.race([
      pool.query("SELECT 1"),
      new Promise((_, reject) => setTimeout(() => reject(new Error("database timeout")), 3000)),
    ]);
    const migration = await currentMigration((sql) => pool.query(sql));
    return NextResponse.json({ status: "ok", database: "up", migration });
  } catch (err) {
    return NextResponse.json(
      { status: "unavailable", database: "down", migration: null, message: (err as Error).message },
      { status: 503 },
    );
  }
}
