import { afterEach, describe, expect, it } from "vitest";
import { configDefaults, configValue, getConfig } from "./config";

const saved = process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND;
afterEach(() => {
  if (saved === undefined) delete process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND;
  else process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = saved;
});

describe("getConfig", () => {
  it("applies the declared defaults", () => {
    const defaults = configDefaults();
    expect(defaults.PORT).toBe(3000);
    expect(defaults.BATCHBOARD_WORKER).toBe(true);
    expect(defaults.BATCHBOARD_ENABLE_COMMAND_FLOW).toBe(false);
    expect(defaults.BATCHBOARD_DB_POOL_SIZE).toBe(10);
    expect(defaults.DATABASE_URL).toBeUndefined();
  });

  it("sees a variable changed after the first read", () => {
    process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "7";
    expect(getConfig().BATCHBOARD_RATE_LIMIT_PER_SECOND).toBe(7);
    process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "9";
    expect(getConfig().BATCHBOARD_RATE_LIMIT_PER_SECOND).toBe(9);
  });

  it("refuses an invalid value, naming the variable", () => {
    process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "lots";
    expect(() => getConfig()).toThrow(/BATCHBOARD_RATE_LIMIT_PER_SECOND/);
  });

  it("reads booleans as on/off words", () => {
    expect(getConfig({ NODE_ENV: "test", BATCHBOARD_ENABLE_COMMAND_FLOW: "yes" }).BATCHBOARD_ENABLE_COMMAND_FLOW).toBe(true);
    expect(getConfig({ NODE_ENV: "test", BATCHBOARD_WORKER: "0" }).BATCHBOARD_WORKER).toBe(false);
  });
});

describe("configValue", () => {
  it("reads one variable, again after it changed, and names it when invalid", () => {
    process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "7";
    expect(configValue("BATCHBOARD_RATE_LIMIT_PER_SECOND")).toBe(7);
    process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "9";
    expect(configValue("BATCHBOARD_RATE_LIMIT_PER_SECOND")).toBe(9);
    process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "lots";
    expect(() => configValue("BATCHBOARD_RATE_LIMIT_PER_SECOND")).toThrow(/BATCHBOARD_RATE_LIMIT_PER_SECOND/);
    delete process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND;
    expect(configValue("BATCHBOARD_RATE_LIMIT_PER_SECOND")).toBe(configDefaults().BATCHBOARD_RATE_LIMIT_PER_SECOND);
  });
});
