// Every /batch route: in the OpenAPI document, and behind the same API keys and scopes as /api (read
// for GETs, write for the rest); an unknown /batch path is a 404 for anyone.
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "@/lib/api/openapi";
import { createApiKey } from "@/lib/auth/keys";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, routeHandlers, type ApiRoute } from "../helpers/routes";

useTestDatabase();

const TABLE: Record<string, "read" | "write"> = {
  "POST /batch/agent-tasks": "write",
  "POST /batch/validation": "write",
  "POST /batch/tests": "write",
  "POST /batch/mcp-operations": "write",
  "GET /batch/jobs": "read",
  "GET /batch/jobs/[id]": "read",
  "DELETE /batch/jobs/[id]": "write",
  "GET /batch/stats": "read",
};

let routes: ApiRoute[];
beforeAll(async () => {
  process.env.BATCHBOARD_AUTH = "on";
  routes = await loadApiRoutes(path.resolve("app/batch"));
});

const handlers = () => routeHandlers(routes);

describe("/batch routes", () => {
  it("are all in the OpenAPI document", () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    for (const { name } of handlers().filter((h) => !h.name.includes("[..."))) {
      const [method, pattern] = name.split(" ");
      expect(doc.paths[pattern!.replace(/\[([^\]]+)\]/g, "{$1}")]?.[method!.toLowerCase()], `${name} is missing from the OpenAPI document`).toBeTruthy();
    }
  });

  it("need the same keys and scopes as /api", async () => {
    expect(handlers().map((h) => h.name).filter((n) => !n.includes("[...")).sort()).toEqual(Object.keys(TABLE).sort());
    const keys = { read: (await createApiKey({ name: "r", scopes: ["read"] })).key, write: (await createApiKey({ name: "w", scopes: ["write"] })).key };
    for (const { route, method, name } of handlers()) {
      const call = (authorization?: string) =>
        callRoute(route, method, {
          params: { id: "nope", slug: "agent-tasks" },
          headers: { ...(authorization ? { authorization } : {}), "content-type": "application/json" },
          body: method === "GET" || method === "DELETE" ? undefined : "{}",
        });
      if (name.includes("[...")) {
        expect((await call()).status, name).toBe(404);
        continue;
      }
      const anonymous = await call();
      expect(anonymous.status, name).toBe(401);
      expect((await anonymous.json()).error.code, name).toBe("unauthorized");
      const read = await call(`Bearer ${keys.read}`);
      if (TABLE[name] === "write") expect(read.status, name).toBe(403);
      else expect([401, 403], name).not.toContain(read.status);
      const write = await call(`Bearer ${keys.write}`);
      expect([401, 403], name).not.toContain(write.status);
      expect(write.status, `${name} with junk input`).toBeLessThan(500);
    }
  });
});
