import { describe, expect, it } from "vitest";
import { API_ROUTES } from "@/lib/api/routes";
import { API_TABLE_COMMAND, API_TABLE_FILE, committedApiTable, inApiTable, renderApiTable } from "@/scripts/lib/api-table";

describe("the route table", () => {
  it("in docs/api.md is the one the route registry generates", () => {
    const committed = committedApiTable();
    expect(committed, `${API_TABLE_FILE} has lost its api-table markers`).not.toBeNull();
    expect(committed, `the route table in ${API_TABLE_FILE} is out of date: run \`${API_TABLE_COMMAND}\``).toBe(renderApiTable());
  });

  it("lists every /api route once, with the scope its entry enforces", () => {
    const rows = committedApiTable()!.split("\n").slice(2);
    const listed = API_ROUTES.filter(inApiTable);
    expect(listed.length).toBeGreaterThan(40);
    expect(rows).toHaveLength(listed.length);
    const who = { read: "read", write: "write", admin: "admin", public: "anyone", secret: "worker secret" };
    listed.forEach((op, i) => {
      expect(rows[i]!.startsWith(`| \`${op.method.toUpperCase()} ${op.path}\` |`)).toBe(true);
      expect(rows[i]!.endsWith(`| ${who[op.scope]} |`), rows[i]).toBe(true);
    });
  });
});
