"use client";
// The form's run options: concurrency (and chunk size, for flows that chunk), limits, retries, budget,
// priority, error handling, shuffle and whether the batch is interactive.
import type { FieldValues, SchemaField } from "@/lib/client/json-schema";
import type { Flow } from "@/lib/client/types";
import { FieldError } from "../field-error";
import { Field } from "./field";
import { chunkSizesOf, type Errors, type NumberOption, type Opts } from "./form-model";

export function OptionsSection({
  flow,
  values,
  fields,
  opts,
  set,
  interactive,
  willFailAll,
  errors,
  changed,
}: {
  flow: Flow;
  /** the flow's parameters as the form has them: a flow's mode decides its chunk sizes */
  values: FieldValues;
  fields: readonly SchemaField[];
  opts: Opts;
  set: <K extends keyof Opts>(key: K, value: Opts[K]) => void;
  interactive: boolean;
  /** the flow asks a human, the batch is not interactive and there is no default answer */
  willFailAll: boolean;
  errors: Errors;
  /** options that differ from the batch being run again */
  changed?: ReadonlySet<keyof Opts>;
}) {
  const mark = (...keys: (keyof Opts)[]) => (keys.some((k) => changed?.has(k)) ? " is-changed" : "");
  const fallbackParam = flow.asks?.default_parameter ?? null;
  const chunk = chunkSizesOf(flow, values, fields);
  const numberField = (key: NumberOption, label: string, hint: string | undefined, attrs: { min?: number; max?: number; step?: string }) => (
    <Field id={key} label={label} errors={errors[key]} hint={hint} changed={changed?.has(key)}>
      <input id={key} type="number" {...attrs} value={opts[key]} onChange={(e) => set(key, e.target.value)} />
    </Field>
  );
  return (
    <section className="card form-section" aria-labelledby="sec-options">
      <h2 id="sec-options">Options</h2>
      <div className="form-grid form-grid-dense">
        {numberField("concurrency", "Concurrency", chunk ? "calls at once, 1–1000" : "jobs at once, 1–1000", { min: 1, max: 1000 })}
        {chunk
          ? numberField(
              "chunk_size",
              "Chunk size",
              `records per call, ${chunk.min_size}–${chunk.max_size}; blank: ${flow.chunk?.parameter && !flow.chunk.modes ? `${chunk.default_size} with ${flow.chunk.parameter}, else 1` : chunk.default_size}`,
              { min: chunk.min_size, max: chunk.max_size },
            )
          : null}
        {numberField("max_records", "Max records", "blank: all", { min: 1 })}
        {numberField("max_retries", "Retries", "per job; blank: default", { min: 0 })}
        {numberField("retry_backoff_ms", "Retry backoff (ms)", undefined, { min: 0 })}
        {numberField("timeout_ms", "Timeout (ms)", "per attempt; blank: none", { min: 1 })}
        {numberField("max_cost", "Max cost ($)", "stop when spent; blank: no budget", { min: 0, step: "any" })}
        <div className={`field${mark("cost_reservation", "cost_reservation_per_record")}`}>
          <label htmlFor="cost_reservation">Budget reservation</label>
          <select id="cost_reservation" value={opts.cost_reservation} onChange={(e) => set("cost_reservation", e.target.value as Opts["cost_reservation"])}>
            <option value="">None: jobs in flight may overshoot</option>
            <option value="mean">Running mean per record</option>
            <option value="per_record">Fixed estimate per record</option>
          </select>
          {opts.cost_reservation === "per_record" ? (
            <input
              aria-label="Estimated cost per record"
              type="number"
              min={0}
              step="any"
              placeholder="cost per record"
              value={opts.cost_reservation_per_record}
              onChange={(e) => set("cost_reservation_per_record", e.target.value)}
            />
          ) : (
            <span className="field-hint">with a max cost: ends within one job&apos;s cost of it</span>
          )}
          <FieldError id="cost_reservation-error" messages={[...(errors.cost_reservation ?? []), ...(errors["cost_reservation.per_record"] ?? [])]} />
        </div>
        {numberField("priority", "Priority", "higher runs first", {})}
        <Field id="error_policy" label="On error" errors={errors.error_policy} changed={changed?.has("error_policy")}>
          <select id="error_policy" value={opts.error_policy} onChange={(e) => set("error_policy", e.target.value as Opts["error_policy"])}>
            <option value="continue">Continue with the rest</option>
            <option value="stop">Stop the batch</option>
          </select>
        </Field>
        <div className={`field${mark("shuffle", "seed")}`}>
          <label htmlFor="shuffle" className="check">
            <input id="shuffle" type="checkbox" checked={opts.shuffle} onChange={(e) => set("shuffle", e.target.checked)} /> Shuffle records
          </label>
          {opts.shuffle ? <input aria-label="Seed" placeholder="seed (optional)" value={opts.seed} onChange={(e) => set("seed", e.target.value)} /> : null}
          <FieldError id="seed-error" messages={[...(errors.shuffle ?? []), ...(errors.seed ?? [])]} />
        </div>
        <div className={`field${mark("interactive")}`}>
          <label htmlFor="interactive" className="check">
            <input id="interactive" type="checkbox" checked={interactive} onChange={(e) => set("interactive", e.target.checked)} /> Interactive
          </label>
          <span className="field-hint">{flow.asks ? `${flow.name} asks questions in the Inbox` : "flows may ask questions in the Inbox"}</span>
          {willFailAll ? (
            <p className="field-warning" role="alert">
              Every record will fail with <code>input_required</code>: {flow.name} asks a human. Turn Interactive on, or set <code>{fallbackParam}</code>.
            </p>
          ) : null}
          <FieldError id="interactive-error" messages={errors.interactive} />
        </div>
        <div className={`field${mark("cache", "cache_max_age", "cache_answers")}`}>
          <label htmlFor="cache" className="check">
            <input id="cache" type="checkbox" checked={opts.cache ?? flow.cache} onChange={(e) => set("cache", e.target.checked)} /> Reuse earlier results
          </label>
          {opts.cache ?? flow.cache ? (
            <div className="form-row">
              <input
                aria-label="Reuse results at most this many seconds old"
                type="number"
                min={1}
                className="input-sm"
                placeholder="any age"
                value={opts.cache_max_age}
                onChange={(e) => set("cache_max_age", e.target.value)}
              />
              <span className="muted small">s old at most</span>
              <label htmlFor="cache_answers" className="check small">
                <input id="cache_answers" type="checkbox" checked={opts.cache_answers} onChange={(e) => set("cache_answers", e.target.checked)} /> also
                answered ones
              </label>
            </div>
          ) : (
            <span className="field-hint">records already run with the same flow and parameters take that result</span>
          )}
          <FieldError id="cache-error" messages={[...(errors.cache ?? []), ...(errors.cache_max_age ?? [])]} />
        </div>
        <div className={`field${mark("threshold_on", "threshold_rate", "threshold_min")}`}>
          <label htmlFor="threshold_on" className="check">
            <input id="threshold_on" type="checkbox" checked={opts.threshold_on} onChange={(e) => set("threshold_on", e.target.checked)} /> Error
            threshold
          </label>
          {opts.threshold_on ? (
            <div className="form-row">
              <input
                aria-label="Error rate"
                type="number"
                step="0.01"
                min={0}
                max={1}
                className="input-sm"
                value={opts.threshold_rate}
                onChange={(e) => set("threshold_rate", e.target.value)}
              />
              <span className="muted small">after</span>
              <input
                aria-label="Minimum finished jobs"
                type="number"
                min={1}
                className="input-sm"
                value={opts.threshold_min}
                onChange={(e) => set("threshold_min", e.target.value)}
              />
              <span className="muted small">jobs</span>
            </div>
          ) : (
            <span className="field-hint">stop when the failure rate passes a limit</span>
          )}
          <FieldError
            id="threshold-error"
            messages={[...(errors.error_threshold ?? []), ...(errors["error_threshold.rate"] ?? []), ...(errors["error_threshold.min_finished"] ?? [])]}
          />
        </div>
      </div>
      <h3 className="subhead">Rate limit</h3>
      <p className="field-hint">How fast the batch may call its provider, across every worker. Batches naming the same key share one budget.</p>
      <div className="form-grid form-grid-dense">
        <Field id="rate_rpm" label="Requests / min" errors={errors["rate_limit.requests_per_minute"]} hint="blank: no request limit" changed={changed?.has("rate_rpm")}>
          <input id="rate_rpm" type="number" min={1} value={opts.rate_rpm} onChange={(e) => set("rate_rpm", e.target.value)} />
        </Field>
        <Field id="rate_tpm" label="Tokens / min" errors={errors["rate_limit.tokens_per_minute"]} hint="blank: no token limit" changed={changed?.has("rate_tpm")}>
          <input id="rate_tpm" type="number" min={1} value={opts.rate_tpm} onChange={(e) => set("rate_tpm", e.target.value)} />
        </Field>
        <Field
          id="rate_key"
          label="Shared key"
          errors={[...(errors["rate_limit.key"] ?? []), ...(errors.rate_limit ?? [])]}
          hint="e.g. openai:gpt-4o-mini; blank: this batch's own"
          changed={changed?.has("rate_key")}
        >
          <input id="rate_key" value={opts.rate_key} maxLength={200} onChange={(e) => set("rate_key", e.target.value)} />
        </Field>
      </div>
    </section>
  );
}
