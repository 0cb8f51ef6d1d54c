import { describe, expect, it } from "vitest";
import { schemaFields } from "@/lib/client/json-schema";
import type { Batch } from "@/lib/client/types";
import { buildBody, changedOptions, chunkSizesOf, cloneBodyOf, DEFAULT_OPTS, groupErrors, optsFromBatch, type FormInput } from "./form-model";

const fields = schemaFields({ type: "object", properties: { delay_ms: { type: "integer", minimum: 0 } } });
const input = (over: Partial<FormInput> = {}): FormInput => ({
  flow: { name: "echo", default_dataset: null },
  fields,
  values: { delay_ms: "" },
  source: { kind: "records", dataset: "", recordsText: '[{"id":"a"},{"id":"b"}]', recordsFormat: "auto", recordIdField: "id" },
  opts: DEFAULT_OPTS,
  interactive: false,
  dryRun: false,
  ...over,
});

describe("the New batch form's body", () => {
  it("builds the request body from what was typed", () => {
    const { body, errors } = buildBody(
      input({ values: { delay_ms: "5" }, opts: { ...DEFAULT_OPTS, concurrency: "12", max_cost: "2.5", threshold_on: true }, dryRun: true }),
    );
    expect(errors).toEqual({});
    expect(body).toMatchObject({
      flow: "echo",
      parameters: { delay_ms: 5 },
      records: [{ id: "a" }, { id: "b" }],
      concurrency: 12,
      max_cost: 2.5,
      error_threshold: { rate: 0.5, min_finished: 20 },
      dry_run: true,
    });
  });

  it("refuses what the API's schema refuses, at the field it names, before sending", () => {
    const { errors } = buildBody(
      input({ opts: { ...DEFAULT_OPTS, concurrency: "5000", max_retries: "1.5", threshold_on: true, threshold_rate: "1.5" } }),
    );
    expect(Object.keys(errors).sort()).toEqual(["concurrency", "error_threshold.rate", "max_retries"]);
    expect(errors.concurrency![0]).toMatch(/1000/);
  });

  it("says which typed value is not a number, and what the records or parameters lack", () => {
    const { errors } = buildBody(
      input({
        values: { delay_ms: "soon" },
        source: { kind: "records", dataset: "", recordsText: '[{"id":', recordsFormat: "json", recordIdField: "id" },
        opts: { ...DEFAULT_OPTS, timeout_ms: "ten" },
      }),
    );
    expect(errors.timeout_ms).toEqual(["Must be a number"]);
    expect(errors["parameters.delay_ms"]).toEqual(["Must be a number"]);
    expect(errors.records?.length).toBe(1);
  });

  it("needs a dataset unless the flow has a default one", () => {
    const dataset = { kind: "dataset" as const, dataset: "", recordsText: "", recordsFormat: "auto" as const, recordIdField: "id" };
    expect(buildBody(input({ source: dataset })).errors.dataset).toEqual(["Pick a dataset, or paste records"]);
    expect(buildBody(input({ source: dataset, flow: { name: "echo", default_dataset: "demo" } })).errors).toEqual({});
  });

  it("files each error under the longest field path it starts with", () => {
    const { byField, other } = groupErrors(
      [
        { path: "error_threshold.rate", message: "too big" },
        { path: "parameters.url.host", message: "bad" },
        { path: "metadata", message: "no" },
      ],
      ["error_threshold", "error_threshold.rate", "parameters.url", "parameters"],
    );
    expect(byField).toEqual({ "error_threshold.rate": ["too big"], "parameters.url": ["host: bad"] });
    expect(other).toEqual(["metadata: no"]);
  });
});

describe("running a batch again", () => {
  const options = {
    shuffle: false,
    seed: "s",
    max_records: null,
    concurrency: 7,
    error_policy: "stop",
    error_threshold: { rate: 0.2, min_finished: 30 },
    interactive: false,
    max_retries: 2,
    max_interruptions: 3,
    retry_backoff_ms: 50,
    timeout_ms: null,
    max_cost: 1.5,
    priority: 4,
    webhook_url: null,
    dry_run: false,
  } as Batch["options"];
  const parent = { name: "first", options } as Batch;

  it("starts from the batch's options, and names the ones changed", () => {
    const start = optsFromBatch(parent);
    expect(start).toMatchObject({ name: "first", shuffle: false, seed: "s", concurrency: "7", error_policy: "stop", threshold_on: true, threshold_rate: "0.2", max_cost: "1.5", max_records: "" });
    expect([...changedOptions(start, start)]).toEqual([]);
    expect([...changedOptions({ ...start, concurrency: "9", threshold_on: false }, start)].sort()).toEqual(["concurrency", "threshold_on"]);
    // the same options give the same body a new batch would send
    const { body } = buildBody(input({ opts: start }));
    expect(body).toMatchObject({ concurrency: 7, max_retries: 2, priority: 4, error_threshold: { rate: 0.2, min_finished: 30 } });
  });

  it("sends the form's values without a source: the new batch takes its parent's records", () => {
    const { body } = buildBody(input({ opts: { ...DEFAULT_OPTS, concurrency: "3" } }));
    const clone = cloneBodyOf(body, "failed");
    expect(clone).toMatchObject({ concurrency: 3, records: "failed", parameters: {} });
    expect(clone).not.toHaveProperty("flow");
    expect(clone).not.toHaveProperty("dataset");
    expect(clone.records).toBe("failed");
  });
});

describe("the New batch form's budget reservation", () => {
  it("sends mean or a fixed estimate per record with the max cost", () => {
    expect(buildBody(input({ opts: { ...DEFAULT_OPTS, max_cost: "3", cost_reservation: "mean" } })).body).toMatchObject({ max_cost: 3, cost_reservation: "mean" });
    const fixed = buildBody(input({ opts: { ...DEFAULT_OPTS, max_cost: "3", cost_reservation: "per_record", cost_reservation_per_record: "0.05" } }));
    expect(fixed.errors).toEqual({});
    expect(fixed.body.cost_reservation).toEqual({ per_record: 0.05 });
    expect(buildBody(input({ opts: { ...DEFAULT_OPTS, max_cost: "3" } })).body).not.toHaveProperty("cost_reservation");
  });

  it("needs the max cost it reserves against, and a number for the estimate", () => {
    expect(buildBody(input({ opts: { ...DEFAULT_OPTS, cost_reservation: "mean" } })).errors.cost_reservation).toEqual(["Needs a max cost: it reserves against the budget"]);
    const blank = buildBody(input({ opts: { ...DEFAULT_OPTS, max_cost: "3", cost_reservation: "per_record" } }));
    expect(blank.errors["cost_reservation.per_record"]).toEqual(["Give the expected cost of one record"]);
    const nan = buildBody(input({ opts: { ...DEFAULT_OPTS, max_cost: "3", cost_reservation: "per_record", cost_reservation_per_record: "x" } }));
    expect(nan.errors["cost_reservation.per_record"]).toEqual(["Must be a number"]);
  });

  it("a run again starts from the batch's reservation", () => {
    const withReservation = (r: Batch["options"]["cost_reservation"]) => optsFromBatch({ name: null, options: { concurrency: 1, max_cost: 2, cost_reservation: r } } as unknown as Batch);
    expect(withReservation({ per_record: 0.2 })).toMatchObject({ cost_reservation: "per_record", cost_reservation_per_record: "0.2" });
    expect(withReservation("mean")).toMatchObject({ cost_reservation: "mean", cost_reservation_per_record: "" });
    expect(withReservation(null)).toMatchObject({ cost_reservation: "", cost_reservation_per_record: "" });
  });
});

describe("the New batch form's result reuse", () => {
  it("leaves cache to the flow until it is ticked either way, and sends the max age and answers", () => {
    expect(buildBody(input()).body).not.toHaveProperty("cache");
    const on = buildBody(input({ opts: { ...DEFAULT_OPTS, cache: true, cache_max_age: "3600", cache_answers: true } }));
    expect(on.errors).toEqual({});
    expect(on.body).toMatchObject({ cache: true, cache_max_age: 3600, cache_answers: true });
    expect(buildBody(input({ opts: { ...DEFAULT_OPTS, cache: false } })).body.cache).toBe(false);
    expect(buildBody(input({ opts: { ...DEFAULT_OPTS, cache: true, cache_max_age: "0" } })).errors.cache_max_age?.length).toBe(1);
  });

  it("a run again starts from the batch's cache settings", () => {
    const o = optsFromBatch({ name: null, options: { concurrency: 1, cache: true, cache_max_age: 60, cache_answers: false } } as unknown as Batch);
    expect(o).toMatchObject({ cache: true, cache_max_age: "60", cache_answers: false });
  });
});

describe("the rate limit section", () => {
  it("sends only what was typed, refuses what the API would, and starts a run again from the parent's", () => {
    expect(buildBody(input({ opts: DEFAULT_OPTS })).body).not.toHaveProperty("rate_limit");
    const { body, errors } = buildBody(input({ opts: { ...DEFAULT_OPTS, rate_rpm: "600", rate_key: "openai:gpt-4o-mini" } }));
    expect(errors).toEqual({});
    expect(body.rate_limit).toEqual({ requests_per_minute: 600, key: "openai:gpt-4o-mini" });
    expect(buildBody(input({ opts: { ...DEFAULT_OPTS, rate_tpm: "1.5" } })).errors["rate_limit.tokens_per_minute"]).toBeDefined();
    expect(buildBody(input({ opts: { ...DEFAULT_OPTS, rate_rpm: "60", rate_key: "has space" } })).errors["rate_limit.key"]).toBeDefined();
    const parent = { name: null, options: { concurrency: 5, error_policy: "continue", error_threshold: null, rate_limit: { tokens_per_minute: 9000, key: "k" } } } as unknown as Batch;
    expect(optsFromBatch(parent)).toMatchObject({ rate_rpm: "", rate_tpm: "9000", rate_key: "k" });
  });
});

describe("the chunk sizes the form offers", () => {
  const sizes = (d: number, max: number, min = 1) => ({ default_size: d, max_size: max, min_size: min });
  const embed = { chunk: { default_size: null, max_size: null, min_size: null, parameter: "mode", modes: { live: sizes(1, 2048), provider_batch: sizes(1000, 50_000, 2) } } };
  it("follows the chosen mode of a flow whose sizes depend on it, and sends no chunk_size where the mode does not chunk", () => {
    expect(chunkSizesOf(embed, { mode: "live" })).toEqual(sizes(1, 2048));
    expect(chunkSizesOf(embed, { mode: "provider_batch" })).toEqual(sizes(1000, 50_000, 2));
    const llm = { chunk: { ...embed.chunk, modes: { provider_batch: sizes(1000, 50_000, 2) } } };
    expect(chunkSizesOf(llm, { mode: "live" })).toBeNull();
    // "(default)": the parameter's default mode
    const modeField = schemaFields({ type: "object", properties: { mode: { type: "string", enum: ["live", "provider_batch"], default: "live" } } });
    expect(chunkSizesOf(embed, { mode: "" }, modeField)).toEqual(sizes(1, 2048));
    expect(chunkSizesOf(llm, { mode: "" }, modeField)).toBeNull();
    expect(chunkSizesOf({ chunk: null }, {})).toBeNull();
    expect(chunkSizesOf({ chunk: { ...sizes(10, 1000), parameter: "chunked", modes: null } }, {})).toEqual(sizes(10, 1000));
    const opts = { ...DEFAULT_OPTS, chunk_size: "500" };
    expect(buildBody(input({ flow: { name: "llm", ...llm }, values: { mode: "live" }, opts })).body.chunk_size).toBeUndefined();
    expect(buildBody(input({ flow: { name: "llm", ...llm }, values: { mode: "provider_batch" }, opts })).body.chunk_size).toBe(500);
  });
});
