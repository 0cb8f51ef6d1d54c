// Every /v1 route: in the OpenAPI document, and behind the same API keys and scopes as /api (read for
// GETs, write for the rest), its 401/403 in the /v1 error body that OpenAI's SDKs read.
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "@/lib/api/openapi";
import { createApiKey } from "@/lib/auth/keys";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, routeHandlers, type ApiRoute } from "../helpers/routes";

useTestDatabase();

const TABLE: Record<string, "read" | "write"> = {
  "GET /v1/files": "read",
  "POST /v1/files": "write",
  "GET /v1/files/[id]": "read",
  "DELETE /v1/files/[id]": "write",
  "GET /v1/files/[id]/content": "read",
  "GET /v1/batches": "read",
  "POST /v1/batches": "write",
  "GET /v1/batches/[id]": "read",
  "POST /v1/batches/[id]/cancel": "write",
};

let routes: ApiRoute[];
beforeAll(async () => {
  process.env.BATCHBOARD_AUTH = "on";
  routes = await loadApiRoutes(path.resolve("app/v1"));
});

const handlers = () => routeHandlers(routes);

describe("/v1 routes", () => {
  it("are all in the OpenAPI document, which validates as OpenAPI 3.1", async () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const result = await new Validator().validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    for (const { name } of handlers().filter((h) => !h.name.includes("[..."))) {
      const [method, pattern] = name.split(" ");
      const p = pattern!.replace(/\[([^\]]+)\]/g, "{$1}");
      expect(doc.paths[p]?.[method!.toLowerCase()], `${name} is missing from the OpenAPI document`).toBeTruthy();
    }
  });

  it("need the same keys and scopes as /api, answering in the /v1 error body", async () => {
    const found = handlers().map((h) => h.name).filter((n) => !n.includes("[..."));
    expect(found.sort()).toEqual(Object.keys(TABLE).sort());
    const keys = { read: (await createApiKey({ name: "r", scopes: ["read"] })).key, write: (await createApiKey({ name: "w", scopes: ["write"] })).key };
    for (const { route, method, name } of handlers()) {
      const call = (authorization?: string) =>
        callRoute(route, method, {
          params: { id: "nope", slug: "no/such" },
          headers: { ...(authorization ? { authorization } : {}), "content-type": "application/json" },
          body: method === "GET" || method === "DELETE" ? undefined : "{}",
        });
      if (name.includes("[...")) {
        expect((await call()).status, name).toBe(404);
        continue;
      }
      const anonymous = await call();
      expect(anonymous.status, name).toBe(401);
      expect((await anonymous.json()).error, name).toMatchObject({ code: "unauthorized", type: "authentication_error" });
      const read = await call(`Bearer ${keys.read}`);
      if (TABLE[name] === "write") {
        expect(read.status, name).toBe(403);
        expect((await read.json()).error).toMatchObject({ code: "forbidden", type: "permission_error" });
      } else expect([401, 403], name).not.toContain(read.status);
      const write = await call(`Bearer ${keys.write}`);
      expect([401, 403], name).not.toContain(write.status);
      expect(write.status, `${name} with junk input`).toBeLessThan(500);
    }
  });
});
