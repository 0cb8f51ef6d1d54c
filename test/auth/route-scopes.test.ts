// Every route enforces the scope it needs: the table below must name every handler in app/api,
// and each is called without credentials, then with read, write and admin keys.
import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "@/lib/auth/keys";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, routeHandlers, type ApiRoute } from "../helpers/routes";

useTestDatabase();

type Access = "public" | "read" | "write" | "admin" | "secret" | "not-found";

const TABLE: Record<string, Access> = {
  "GET /api/health": "public",
  "GET /api/auth/one-time": "public",
  "POST /api/auth/signin": "public",
  "POST /api/auth/signout": "public",
  "GET /api/auth/session": "read",
  "POST /api/batch/embed": "write",
  "GET /api/batch/jobs": "read",
  "GET /api/batch/jobs/[id]": "read",
  "DELETE /api/batch/jobs/[id]": "write",
  "GET /api/batch/results/[id]": "read",
  "GET /api/batches": "read",
  "POST /api/batches": "write",
  "GET /api/batches/[id]": "read",
  "DELETE /api/batches/[id]": "write",
  "POST /api/batches/[id]/cancel": "write",
  "POST /api/batches/[id]/pause": "write",
  "POST /api/batches/[id]/resume": "write",
  "POST /api/batches/[id]/retry": "write",
  "POST /api/batches/[id]/clone": "write",
  "GET /api/batches/[id]/events": "read",
  "GET /api/batches/[id]/jobs": "read",
  "GET /api/batches/[id]/jobs/[recordId]": "read",
  "POST /api/batches/[id]/jobs/[recordId]/cancel": "write",
  "POST /api/batches/[id]/jobs/[recordId]/retry": "write",
  "GET /api/batches/[id]/metrics": "read",
  "GET /api/batches/[id]/summary": "read",
  "GET /api/batches/[id]/results": "read",
  "GET /api/datasets": "read",
  "POST /api/datasets": "write",
  "GET /api/datasets/[id]": "read",
  "DELETE /api/datasets/[id]": "write",
  "GET /api/datasets/[id]/records": "read",
  "GET /api/datasets/[id]/file": "read",
  "GET /api/compare": "read",
  "GET /api/compare/records": "read",
  "GET /api/events": "read",
  "GET /api/flows": "read",
  "GET /api/keys": "admin",
  "POST /api/keys": "admin",
  "DELETE /api/keys/[id]": "admin",
  "GET /api/metrics": "read",
  "GET /api/openapi.json": "read",
  "GET /api/prompts": "read",
  "GET /api/prompts/[id]": "read",
  "POST /api/prompts/[id]/answer": "write",
  "GET /api/stats": "read",
  "GET /api/workers": "read",
  "POST /api/worker/run": "secret",
};

const RANK = { read: 1, write: 2, admin: 3 } as const;

describe("every route enforces its scope", () => {
  let routes: ApiRoute[];
  const keys: Record<"read" | "write" | "admin", string> = { read: "", write: "", admin: "" };

  beforeAll(async () => {
    process.env.BATCHBOARD_AUTH = "on";
    routes = await loadApiRoutes();
    for (const scope of ["read", "write", "admin"] as const) keys[scope] = (await createApiKey({ name: scope, scopes: [scope] })).key;
  });

  it("the table names exactly the routes that exist", () => {
    const found = routeHandlers(routes)
      .map((h) => h.name)
      .filter((n) => !n.includes("[...slug]"));
    expect(found.sort()).toEqual(Object.keys(TABLE).sort());
  });

  it("answers 401 without credentials and 403 to a key of a lower scope; lets the right scope through", async () => {
    let checked = 0;
    for (const { route, method, name } of routeHandlers(routes)) {
      const access: Access = name.includes("[...slug]") ? "not-found" : TABLE[name]!;
      const call = (authorization?: string) =>
        callRoute(route, method, {
          params: { id: "nope", recordId: "nope", slug: "no/such/route" },
          headers: { ...(authorization ? { authorization } : {}), "content-type": "application/json" },
          body: method === "GET" || method === "DELETE" ? undefined : "{}",
          signal: AbortSignal.timeout(5000),
        });
      const anonymous = await call();
      if (access === "not-found") {
        expect(anonymous.status, name).toBe(404);
      } else if (access === "public") {
        // reachable without credentials: a 401 may only mean the bogus one-time token we sent
        const status = anonymous.status === 401 && name === "GET /api/auth/one-time" ? 200 : anonymous.status;
        expect([401, 403], `${name} without credentials`).not.toContain(status);
        await anonymous.body?.cancel();
      } else if (access === "secret") {
        expect([401, 404], name).toContain(anonymous.status);
        for (const scope of ["read", "write", "admin"] as const) {
          expect([401, 404], `${name} with an ${scope} key`).toContain((await call(`Bearer ${keys[scope]}`)).status);
        }
      } else {
        expect(anonymous.status, `${name} without credentials`).toBe(401);
        expect((await anonymous.json()).error.code, name).toBe("unauthorized");
        for (const scope of ["read", "write", "admin"] as const) {
          const res = await call(`Bearer ${keys[scope]}`);
          if (RANK[scope] < RANK[access]) {
            expect(res.status, `${name} with a ${scope} key`).toBe(403);
            expect((await res.json()).error.code).toBe("forbidden");
          } else {
            expect([401, 403], `${name} with a ${scope} key`).not.toContain(res.status);
            await res.body?.cancel();
          }
        }
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(Object.keys(TABLE).length);
  });
});
