// The route registry (lib/api/routes.ts) is the one route table: it names exactly the handlers under
// app/**/route.ts, each handler enforces the entry of its own method and path (route files name a key,
// never a scope or schema), the OpenAPI document is made from it, and every route enforces the scope
// its entry lists: each is called without credentials, then with read, write and admin keys.
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "@/lib/api/openapi";
import { route } from "@/lib/api/handler";
import { API_ROUTES, type ApiOperation, type RouteKey } from "@/lib/api/routes";
import { createApiKey } from "@/lib/auth/keys";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, routeHandlers, type ApiRoute, type Method } from "../helpers/routes";

useTestDatabase();

const RANK = { read: 1, write: 2, admin: 3 } as const;
const isCatchAll = (name: string) => name.includes("[...");
/** "GET /api/batches/[id]" -> "GET /api/batches/{id}", the registry's form */
const registryName = (name: string) => name.replace(/\[([^\]]+)\]/g, "{$1}");
const nameOf = (op: ApiOperation) => `${op.method.toUpperCase()} ${op.path}`;

let handlers: { route: ApiRoute; method: Method; name: string }[];
const keys: Record<"read" | "write" | "admin", string> = { read: "", write: "", admin: "" };

beforeAll(async () => {
  process.env.BATCHBOARD_AUTH = "on";
  handlers = routeHandlers(await loadApiRoutes(path.resolve("app")));
  for (const scope of ["read", "write", "admin"] as const) keys[scope] = (await createApiKey({ name: scope, scopes: [scope] })).key;
});

function call(h: (typeof handlers)[number], authorization?: string): Promise<Response> {
  return callRoute(h.route, h.method, {
    params: { id: "nope", recordId: "nope", slug: "no/such/route" },
    headers: { ...(authorization ? { authorization } : {}), "content-type": "application/json" },
    body: h.method === "GET" || h.method === "DELETE" ? undefined : "{}",
    signal: AbortSignal.timeout(5000),
  });
}

describe("the route registry", () => {
  it("names exactly the route handlers under app/, each once", () => {
    const files = handlers.map((h) => h.name).filter((n) => !isCatchAll(n)).map(registryName).sort();
    const registered = API_ROUTES.map(nameOf).sort();
    expect(new Set(registered).size, "a route is registered twice").toBe(registered.length);
    expect(files.length).toBeGreaterThan(50);
    expect(files).toEqual(registered);
  });

  it("binds every route file's handler to the registry entry of its own method and path", () => {
    const bound = handlers.filter((h) => !isCatchAll(h.name));
    for (const h of bound) {
      const key = (h.route.handlers[h.method] as { routeKey?: string }).routeKey;
      expect(key, `${h.name} (${path.relative(process.cwd(), h.route.file)}) goes through route() or v1Route()`).toBeDefined();
      expect(key, `${h.name} enforces another route's entry`).toBe(registryName(h.name));
    }
    // a key the registry does not have is refused when the route file loads, not on the first request
    expect(() => route("GET /api/no-such-route" as RouteKey, () => null)).toThrow(/no route GET \/api\/no-such-route/);
  });

  it("makes the OpenAPI document, which validates as OpenAPI 3.1 and lists every route", async () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { "x-scope": string }>> };
    const result = await new Validator().validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    for (const op of API_ROUTES) expect(doc.paths[op.path]?.[op.method], nameOf(op)).toBeTruthy();
    expect(Object.values(doc.paths).flatMap((m) => Object.keys(m))).toHaveLength(API_ROUTES.length);
  });

  it("answers an unknown path under /api, /batch and /v1 with the same 404 body", async () => {
    const catchAlls = handlers.filter((h) => isCatchAll(h.name));
    expect(catchAlls.map((h) => h.route.pattern).sort()).toEqual(["/api/[...slug]", "/batch/[...slug]", "/v1/[...slug]"].sort().flatMap((p) => [p, p, p, p, p]).sort());
    for (const h of catchAlls) {
      const res = await call(h);
      expect(res.status, h.name).toBe(404);
      const { error } = await res.json();
      expect(error, h.name).toEqual({
        code: "not_found",
        message: `no API route at ${h.method} ${h.route.pattern.replace("[...slug]", encodeURIComponent("no/such/route"))}`,
        details: [{ message: "see /api/openapi.json for the routes" }],
        type: "invalid_request_error",
        param: null,
      });
    }
  });

  it("every route answers 401 without credentials and 403 to a key of a lower scope, and lets its scope through", async () => {
    let checked = 0;
    for (const op of API_ROUTES) {
      const name = nameOf(op);
      const h = handlers.find((x) => registryName(x.name) === name)!;
      const v1 = op.path.startsWith("/v1/");
      const anonymous = await call(h);
      if (op.scope === "public") {
        // reachable without credentials: a 401 may only mean the bogus one-time token we sent
        const status = anonymous.status === 401 && name === "GET /api/auth/one-time" ? 200 : anonymous.status;
        expect([401, 403], `${name} without credentials`).not.toContain(status);
        await anonymous.body?.cancel();
      } else if (op.scope === "secret") {
        expect([401, 404], name).toContain(anonymous.status);
        for (const scope of ["read", "write", "admin"] as const) {
          expect([401, 404], `${name} with an ${scope} key`).toContain((await call(h, `Bearer ${keys[scope]}`)).status);
        }
      } else {
        expect(anonymous.status, `${name} without credentials`).toBe(401);
        const unauthorized = (await anonymous.json()).error;
        expect(unauthorized.code, name).toBe("unauthorized");
        if (v1) expect(unauthorized.type, name).toBe("authentication_error");
        for (const scope of ["read", "write", "admin"] as const) {
          const res = await call(h, `Bearer ${keys[scope]}`);
          if (RANK[scope] < RANK[op.scope]) {
            expect(res.status, `${name} with a ${scope} key`).toBe(403);
            const forbidden = (await res.json()).error;
            expect(forbidden.code, name).toBe("forbidden");
            if (v1) expect(forbidden.type, name).toBe("permission_error");
          } else {
            expect([401, 403], `${name} with a ${scope} key`).not.toContain(res.status);
            expect(res.status, `${name} with junk input`).toBeLessThan(500);
            await res.body?.cancel();
          }
        }
      }
      checked++;
    }
    expect(checked).toBe(API_ROUTES.length);
  });
});
