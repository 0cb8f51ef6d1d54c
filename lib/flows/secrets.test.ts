import { afterEach, describe, expect, it } from "vitest";
import { REDACTED, redactSecretsInJson } from "./secrets";

const saved = { list: process.env.BATCHBOARD_FLOW_SECRETS, token: process.env.TEST_REDACT_TOKEN };
const realEnv = process.env;
afterEach(() => {
  process.env = realEnv;
  for (const [k, v] of [["BATCHBOARD_FLOW_SECRETS", saved.list], ["TEST_REDACT_TOKEN", saved.token]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** process.env behind a proxy that counts the variables looked up. */
function countingEnv(): { reads: () => number } {
  let reads = 0;
  process.env = new Proxy(realEnv, {
    get(target, key, receiver) {
      if (typeof key === "string") reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return { reads: () => reads };
}

describe("redactSecretsInJson", () => {
  it("looks up only the variables that hold secrets, not every setting, for each stored result", () => {
    process.env.BATCHBOARD_FLOW_SECRETS = "TEST_REDACT_TOKEN";
    process.env.TEST_REDACT_TOKEN = "tok-3vQ9zL2x";
    redactSecretsInJson("{}");
    const env = countingEnv();
    for (let i = 0; i < 100; i++) redactSecretsInJson(`{"n":${i}}`);
    // the list, the routes, OPENAI_API_KEY and the one listed variable: 4 per result (every setting, twice, was 100)
    expect(env.reads()).toBeLessThanOrEqual(100 * 4);
  });

  it("redacts a secret's new value as soon as the variable changes", () => {
    process.env.BATCHBOARD_FLOW_SECRETS = "TEST_REDACT_TOKEN";
    process.env.TEST_REDACT_TOKEN = "tok-first-value";
    expect(redactSecretsInJson(`{"a":"tok-first-value"}`)).toBe(`{"a":"${REDACTED}"}`);
    process.env.TEST_REDACT_TOKEN = "tok-second-value";
    expect(redactSecretsInJson(`{"a":"tok-second-value"}`)).toBe(`{"a":"${REDACTED}"}`);
    process.env.BATCHBOARD_FLOW_SECRETS = "";
    expect(redactSecretsInJson(`{"a":"tok-second-value"}`)).toBe(`{"a":"tok-second-value"}`);
  });
});
