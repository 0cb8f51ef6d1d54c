import { afterAll, describe, expect, it } from "vitest";
import { closeDb } from "@/lib/db/client";
import { freePort } from "@/lib/db/embedded";
import { createTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes } from "../helpers/routes";

describe("GET /api/health", () => {
  afterAll(closeDb);

  it("is 200 with the applied migration when the database answers, 503 when it does not", async () => {
    const health = (await loadApiRoutes()).find((r) => r.pattern === "/api/health")!;
    const db = await createTestDatabase();
    try {
      process.env.DATABASE_URL = db.url;
      const ok = await callRoute(health, "GET");
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ status: "ok", database: "up", migration: expect.stringMatching(/^\d{14}_/) });

      await closeDb();
      // nothing listens on this port: the same route must say so, not throw
      process.env.DATABASE_URL = `postgresql://nobody:nothing@127.0.0.1:${await freePort()}/none`;
      const down = await callRoute(health, "GET");
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: "unavailable", database: "down", migration: null });
    } finally {
      await closeDb();
      await db.drop();
    }
  });
});
