import { describe, expect, it } from "vitest";
import { ENV_TABLE_COMMAND, ENV_TABLE_FILE, committedEnvTable, renderEnvTable } from "@/scripts/lib/env-table";

describe("the environment table", () => {
  it("in docs/operations.md is the one lib/config.ts generates", () => {
    const committed = committedEnvTable();
    expect(committed, `${ENV_TABLE_FILE} has lost its env-table markers`).not.toBeNull();
    expect(committed, `the environment table in ${ENV_TABLE_FILE} is out of date: run \`${ENV_TABLE_COMMAND}\``).toBe(renderEnvTable());
  });
});
