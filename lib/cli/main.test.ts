import { describe, expect, it } from "vitest";
import { createBody, parseRateLimitFlag } from "./main";

describe("batchboard create's body", () => {
  it("--cost-reservation takes mean or a cost per record, beside --max-cost", () => {
    expect(createBody("llm", { "max-cost": "5", "cost-reservation": "mean" })).toMatchObject({ max_cost: 5, cost_reservation: "mean" });
    expect(createBody("llm", { "max-cost": "5", "cost-reservation": "0.02" })).toMatchObject({ cost_reservation: { per_record: 0.02 } });
    expect(createBody("llm", {})).not.toHaveProperty("cost_reservation");
  });

  it("--cost-reservation refuses anything else as a usage error", () => {
    expect(() => createBody("llm", { "cost-reservation": "lots" })).toThrow(/--cost-reservation must be mean or a cost per record/);
  });
});

describe("--chunk-size", () => {
  it("sends chunk_size; absent, the flow's default applies (no key sent)", () => {
    expect(createBody("embed", { "chunk-size": "100", concurrency: "4" })).toMatchObject({ chunk_size: 100, concurrency: 4 });
    expect(createBody("embed", {})).not.toHaveProperty("chunk_size");
  });
});

describe("--mode", () => {
  it("sets parameters.mode beside the other parameters, and refuses anything but live or provider_batch", () => {
    expect(createBody("llm", { mode: "provider_batch", param: ["model=gpt-4o-mini"], "chunk-size": "5000" })).toMatchObject({
      parameters: { mode: "provider_batch", model: "gpt-4o-mini" },
      chunk_size: 5000,
    });
    expect(() => createBody("llm", { mode: "batch" })).toThrow(/--mode is live or provider_batch/);
  });
});

describe("batchboard create's result reuse flags", () => {
  it("--cache, --no-cache, --cache-max-age and --cache-answers", () => {
    expect(createBody("llm", { cache: true, "cache-max-age": "3600", "cache-answers": true })).toMatchObject({ cache: true, cache_max_age: 3600, cache_answers: true });
    expect(createBody("llm", { "no-cache": true })).toMatchObject({ cache: false });
    expect(createBody("llm", {})).not.toHaveProperty("cache");
    expect(() => createBody("llm", { "cache-max-age": "a day" })).toThrow(/--cache-max-age must be a number/);
  });
});

describe("--rate-limit", () => {
  it("takes rpm, tpm and key in any subset", () => {
    expect(parseRateLimitFlag("rpm=600,tpm=200000,key=openai:gpt-4o-mini")).toEqual({
      requests_per_minute: 600,
      tokens_per_minute: 200000,
      key: "openai:gpt-4o-mini",
    });
    expect(parseRateLimitFlag("key=local:llama3")).toEqual({ key: "local:llama3" });
    expect(createBody("llm", { "rate-limit": "rpm=60" })).toMatchObject({ flow: "llm", rate_limit: { requests_per_minute: 60 } });
  });

  it("refuses what it does not know, leaving the values to the server", () => {
    expect(() => parseRateLimitFlag("rps=10")).toThrow(/rpm=<n>,tpm=<n>,key=<key>/);
    expect(() => parseRateLimitFlag("")).toThrow();
    // a rate that is not a whole number goes to the server as written: its 422 names the field
    expect(parseRateLimitFlag("rpm=1.5")).toEqual({ requests_per_minute: "1.5" });
  });
});
