"use client";
// The New batch form: a flow, its parameters (generated from the flow's JSON Schema), a source
// (dataset, or records pasted / loaded from a file) and the run options. The API's 422 details land
// at the fields they name ("parameters.url", "concurrency", "records.3").
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { Loading, QueryError } from "@/components/ui/query-state";
import { api, ApiError } from "@/lib/client/api";
import { useDatasets, useFlows } from "@/lib/client/hooks";
import { buildParameters, initialValues, schemaFields, type FieldValues } from "@/lib/client/json-schema";
import { batchKeys } from "@/lib/client/keys";
import { parseRecords, type RecordsFormat } from "@/lib/client/records";
import type { CreateBatchBody } from "@/lib/client/types";
import { FieldError } from "./field-error";
import { SchemaFields } from "./schema-fields";

type Errors = Record<string, string[]>;

const OPTION_PATHS = [
  "name",
  "flow",
  "dataset",
  "records",
  "record_id_field",
  "shuffle",
  "seed",
  "max_records",
  "concurrency",
  "error_policy",
  "error_threshold.rate",
  "error_threshold.min_finished",
  "error_threshold",
  "max_retries",
  "retry_backoff_ms",
  "timeout_ms",
  "max_cost",
  "priority",
  "interactive",
];

/** Files each detail under the longest known field path it starts with; the rest go to the summary. */
function groupErrors(details: { path?: string; message: string }[], known: string[]): { byField: Errors; other: string[] } {
  const byField: Errors = {};
  const other: string[] = [];
  const sorted = [...known].sort((a, b) => b.length - a.length);
  for (const d of details) {
    const p = d.path ?? "";
    const hit = sorted.find((k) => p === k || p.startsWith(`${k}.`));
    if (hit) {
      const msg = hit === p ? d.message : `${p.slice(hit.length + 1)}: ${d.message}`;
      (byField[hit] ??= []).push(msg);
    } else other.push(p ? `${p}: ${d.message}` : d.message);
  }
  return { byField, other };
}

interface Opts {
  name: string;
  shuffle: boolean;
  seed: string;
  max_records: string;
  concurrency: string;
  error_policy: "continue" | "stop";
  threshold_on: boolean;
  threshold_rate: string;
  threshold_min: string;
  max_retries: string;
  retry_backoff_ms: string;
  timeout_ms: string;
  max_cost: string;
  priority: string;
  /** null: as the flow wants (on for a flow that asks a human) */
  interactive: boolean | null;
}

const DEFAULT_OPTS: Opts = {
  name: "",
  shuffle: true,
  seed: "",
  max_records: "",
  concurrency: "5",
  error_policy: "continue",
  threshold_on: false,
  threshold_rate: "0.5",
  threshold_min: "20",
  max_retries: "",
  retry_backoff_ms: "",
  timeout_ms: "",
  max_cost: "",
  priority: "",
  interactive: null,
};

export function NewBatchForm({ initialFlow, initialDataset }: { initialFlow?: string; initialDataset?: string }) {
  const router = useRouter();
  const qc = useQueryClient();
  const flows = useFlows();
  const datasets = useDatasets();
  const [flowChoice, setFlowChoice] = useState(initialFlow ?? "");
  const [paramsByFlow, setParamsByFlow] = useState<Record<string, FieldValues>>({});
  const [sourceKind, setSourceKind] = useState<"dataset" | "records">("dataset");
  const [dataset, setDataset] = useState(initialDataset ?? "");
  const [recordsText, setRecordsText] = useState("");
  const [recordsFormat, setRecordsFormat] = useState<RecordsFormat>("auto");
  const [recordIdField, setRecordIdField] = useState("id");
  const [loadedFile, setLoadedFile] = useState<string | null>(null);
  const [opts, setOpts] = useState<Opts>(DEFAULT_OPTS);
  const [errors, setErrors] = useState<Errors>({});
  const [summary, setSummary] = useState<{ message: string; other: string[] } | null>(null);

  const flowList = flows.data?.items ?? [];
  const flow = flowList.find((f) => f.name === flowChoice) ?? flowList[0];
  const fields = useMemo(() => schemaFields(flow?.parameters_schema), [flow]);
  const values = (flow && paramsByFlow[flow.name]) || initialValues(fields);
  const knownPaths = useMemo(() => [...OPTION_PATHS, ...fields.map((f) => `parameters.${f.name}`), "parameters"], [fields]);
  const interactive = opts.interactive ?? !!flow?.asks;
  const fallbackParam = flow?.asks?.default_parameter ?? null;
  // the same rule the API warns with: a flow that asks, not interactive, no default answer
  const willFailAll = !!fallbackParam && !interactive && (values[fallbackParam] === undefined || values[fallbackParam] === "");

  const create = useMutation({
    mutationFn: (body: CreateBatchBody) => api.createBatch(body),
    onSuccess: (batch) => {
      qc.setQueryData(batchKeys.detail(batch.id), batch);
      void qc.invalidateQueries({ queryKey: batchKeys.lists() });
      router.push(`/batches/${batch.id}`);
    },
    onError: (err) => {
      if (err instanceof ApiError && err.details.length) {
        const { byField, other } = groupErrors(err.details, knownPaths);
        setErrors(byField);
        setSummary({ message: err.message, other });
      } else {
        setErrors({});
        setSummary({ message: err instanceof Error ? err.message : String(err), other: [] });
      }
    },
  });

  const set = <K extends keyof Opts>(k: K, v: Opts[K]) => setOpts((o) => ({ ...o, [k]: v }));

  function numberOption(body: CreateBatchBody, errs: Errors, key: keyof Opts & keyof CreateBatchBody, integer = true) {
    const text = String(opts[key]).trim();
    if (!text) return;
    const n = Number(text);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) errs[key] = [integer ? "Must be a whole number" : "Must be a number"];
    else (body as unknown as Record<string, unknown>)[key] = n;
  }

  function buildBody(dryRun: boolean): { body: CreateBatchBody; errs: Errors } | null {
    if (!flow) return null;
    const errs: Errors = {};
    const { parameters, errors: paramErrors } = buildParameters(fields, values);
    for (const [k, v] of Object.entries(paramErrors)) errs[k] = [v];
    const body: CreateBatchBody = { flow: flow.name, parameters, shuffle: opts.shuffle, error_policy: opts.error_policy, interactive };
    if (opts.name.trim()) body.name = opts.name.trim();
    if (opts.seed.trim()) body.seed = opts.seed.trim();
    numberOption(body, errs, "max_records");
    numberOption(body, errs, "concurrency");
    numberOption(body, errs, "max_retries");
    numberOption(body, errs, "retry_backoff_ms");
    numberOption(body, errs, "timeout_ms");
    numberOption(body, errs, "max_cost", false);
    numberOption(body, errs, "priority");
    if (opts.threshold_on) {
      const rate = Number(opts.threshold_rate);
      const min = Number(opts.threshold_min || "0");
      if (!Number.isFinite(rate) || rate <= 0 || rate > 1) errs["error_threshold.rate"] = ["A rate between 0 and 1"];
      if (!Number.isInteger(min) || min < 0) errs["error_threshold.min_finished"] = ["A whole number"];
      body.error_threshold = { rate, min_finished: min };
    }
    if (sourceKind === "dataset") {
      if (dataset) body.dataset = dataset;
      else if (!flow.default_dataset) errs.dataset = ["Pick a dataset, or paste records"];
    } else {
      const parsed = parseRecords(recordsText, recordsFormat);
      if (!parsed.ok) errs[parsed.path.startsWith("records") ? "records" : parsed.path] = [parsed.message];
      else {
        body.records = parsed.records;
        if (recordIdField.trim() && recordIdField.trim() !== "id") body.record_id_field = recordIdField.trim();
      }
    }
    if (dryRun) body.dry_run = true;
    return { body, errs };
  }

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const submitter = (e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const built = buildBody(submitter?.value === "dry-run");
    if (!built) return;
    setErrors(built.errs);
    if (Object.keys(built.errs).length) {
      setSummary({ message: "Fix the highlighted fields.", other: [] });
      return;
    }
    setSummary(null);
    create.mutate(built.body);
  }

  async function loadFile(file: File) {
    const text = await file.text();
    setRecordsText(text);
    setLoadedFile(`${file.name} (${file.size.toLocaleString("en-US")} bytes)`);
    const lower = file.name.toLowerCase();
    setRecordsFormat(lower.endsWith(".csv") ? "csv" : lower.endsWith(".json") ? "json" : lower.match(/\.(jsonl|ndjson)$/) ? "jsonl" : "auto");
  }

  if (flows.isLoading) return <Loading label="Loading flows…" />;
  if (flows.isError) return <QueryError error={flows.error} onRetry={() => void flows.refetch()} what="flows" />;
  if (!flow) {
    return (
      <section className="empty-state" role="status">
        <h2>No flows registered</h2>
        <p>Add a flow in lib/flows/ and register it to launch batches.</p>
      </section>
    );
  }

  const parsedPreview = sourceKind === "records" && recordsText.trim() ? parseRecords(recordsText, recordsFormat) : null;

  return (
    <form className="new-batch" onSubmit={submit} noValidate aria-label="New batch">
      {summary ? (
        <div className="alert alert-error" role="alert">
          <strong>{summary.message}</strong>
          {summary.other.length ? (
            <ul>
              {summary.other.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}

      <section className="card form-section" aria-labelledby="sec-flow">
        <h2 id="sec-flow">Flow</h2>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="flow">Flow</label>
            <select
              id="flow"
              value={flow.name}
              onChange={(e) => {
                setFlowChoice(e.target.value);
                set("interactive", null);
              }}
            >
              {flowList.map((f) => (
                <option key={f.name} value={f.name}>
                  {f.name}
                </option>
              ))}
            </select>
            <span className="field-hint">{flow.description}</span>
            <FieldError id="flow-error" messages={errors.flow} />
          </div>
          <Field id="name" label="Name" hint="optional, shown in the batches list" errors={errors.name}>
            <input id="name" value={opts.name} onChange={(e) => set("name", e.target.value)} placeholder={`${flow.name} run`} />
          </Field>
        </div>
        <h3 className="subhead">Parameters</h3>
        <SchemaFields
          key={flow.name}
          fields={fields}
          values={values}
          errors={errors}
          onChange={(name, v) => setParamsByFlow((p) => ({ ...p, [flow.name]: { ...values, [name]: v } }))}
        />
      </section>

      <section className="card form-section" aria-labelledby="sec-source">
        <h2 id="sec-source">Records</h2>
        <div className="segmented" role="radiogroup" aria-label="Source">
          <label>
            <input type="radio" name="source" checked={sourceKind === "dataset"} onChange={() => setSourceKind("dataset")} /> A dataset
          </label>
          <label>
            <input type="radio" name="source" checked={sourceKind === "records"} onChange={() => setSourceKind("records")} /> Paste or
            upload records
          </label>
        </div>
        {sourceKind === "dataset" ? (
          <div className="source-field">
            <Field id="dataset" label="Dataset" errors={errors.dataset} hint={datasets.isError ? "Could not load datasets." : undefined}>
              <select id="dataset" value={dataset} onChange={(e) => setDataset(e.target.value)}>
                <option value="">{flow.default_dataset ? `Flow default (${flow.default_dataset})` : "Choose a dataset…"}</option>
                {datasets.data?.items.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name} — {d.record_count.toLocaleString("en-US")} records
                  </option>
                ))}
              </select>
            </Field>
          </div>
        ) : (
          <>
            <Field
              id="records"
              label="Records"
              wide
              errors={errors.records}
              hint="A JSON array, JSONL (one object per line), CSV with a header row, or one plain value per line."
            >
              <textarea
                id="records"
                rows={8}
                value={recordsText}
                onChange={(e) => {
                  setRecordsText(e.target.value);
                  setLoadedFile(null);
                }}
                placeholder={'[{"id": "r1", "text": "hello"}, {"id": "r2", "text": "world"}]'}
                spellCheck={false}
              />
            </Field>
            <div className="form-row">
              <label className="inline-field">
                <span>Format</span>
                <select aria-label="Records format" value={recordsFormat} onChange={(e) => setRecordsFormat(e.target.value as RecordsFormat)}>
                  <option value="auto">Auto-detect</option>
                  <option value="json">JSON array</option>
                  <option value="jsonl">JSONL</option>
                  <option value="csv">CSV</option>
                  <option value="lines">One per line</option>
                </select>
              </label>
              <label className="inline-field">
                <span>Record id field</span>
                <input aria-label="Record id field" className="input-sm" value={recordIdField} onChange={(e) => setRecordIdField(e.target.value)} />
              </label>
              <label className="btn file-btn">
                Load from a file…
                <input
                  type="file"
                  aria-label="Load records from a file"
                  accept=".json,.jsonl,.ndjson,.csv,.txt"
                  onChange={(e) => {
                    const f = e.target.files?.[0];
                    if (f) void loadFile(f);
                    e.target.value = "";
                  }}
                />
              </label>
              <span className="muted small" aria-live="polite">
                {loadedFile ? `Loaded ${loadedFile}. ` : ""}
                {parsedPreview
                  ? parsedPreview.ok
                    ? `${parsedPreview.records.length.toLocaleString("en-US")} records (${parsedPreview.format})`
                    : parsedPreview.message
                  : ""}
              </span>
            </div>
            <FieldError id="record-id-field-error" messages={errors.record_id_field} />
          </>
        )}
      </section>

      <section className="card form-section" aria-labelledby="sec-options">
        <h2 id="sec-options">Options</h2>
        <div className="form-grid form-grid-dense">
          <Field id="concurrency" label="Concurrency" errors={errors.concurrency} hint="jobs at once, 1–1000">
            <input id="concurrency" type="number" min={1} max={1000} value={opts.concurrency} onChange={(e) => set("concurrency", e.target.value)} />
          </Field>
          <Field id="max_records" label="Max records" errors={errors.max_records} hint="blank: all">
            <input id="max_records" type="number" min={1} value={opts.max_records} onChange={(e) => set("max_records", e.target.value)} />
          </Field>
          <Field id="max_retries" label="Retries" errors={errors.max_retries} hint="per job; blank: default">
            <input id="max_retries" type="number" min={0} value={opts.max_retries} onChange={(e) => set("max_retries", e.target.value)} />
          </Field>
          <Field id="retry_backoff_ms" label="Retry backoff (ms)" errors={errors.retry_backoff_ms}>
            <input id="retry_backoff_ms" type="number" min={0} value={opts.retry_backoff_ms} onChange={(e) => set("retry_backoff_ms", e.target.value)} />
          </Field>
          <Field id="timeout_ms" label="Timeout (ms)" errors={errors.timeout_ms} hint="per attempt; blank: none">
            <input id="timeout_ms" type="number" min={1} value={opts.timeout_ms} onChange={(e) => set("timeout_ms", e.target.value)} />
          </Field>
          <Field id="max_cost" label="Max cost ($)" errors={errors.max_cost} hint="stop when spent; blank: no budget">
            <input id="max_cost" type="number" min={0} step="any" value={opts.max_cost} onChange={(e) => set("max_cost", e.target.value)} />
          </Field>
          <Field id="priority" label="Priority" errors={errors.priority} hint="higher runs first">
            <input id="priority" type="number" value={opts.priority} onChange={(e) => set("priority", e.target.value)} />
          </Field>
          <Field id="error_policy" label="On error" errors={errors.error_policy}>
            <select id="error_policy" value={opts.error_policy} onChange={(e) => set("error_policy", e.target.value as Opts["error_policy"])}>
              <option value="continue">Continue with the rest</option>
              <option value="stop">Stop the batch</option>
            </select>
          </Field>
          <div className="field">
            <label htmlFor="shuffle" className="check">
              <input id="shuffle" type="checkbox" checked={opts.shuffle} onChange={(e) => set("shuffle", e.target.checked)} /> Shuffle
              records
            </label>
            {opts.shuffle ? (
              <input aria-label="Seed" placeholder="seed (optional)" value={opts.seed} onChange={(e) => set("seed", e.target.value)} />
            ) : null}
            <FieldError id="seed-error" messages={[...(errors.shuffle ?? []), ...(errors.seed ?? [])]} />
          </div>
          <div className="field">
            <label htmlFor="interactive" className="check">
              <input id="interactive" type="checkbox" checked={interactive} onChange={(e) => set("interactive", e.target.checked)} />{" "}
              Interactive
            </label>
            <span className="field-hint">{flow.asks ? `${flow.name} asks questions in the Inbox` : "flows may ask questions in the Inbox"}</span>
            {willFailAll ? (
              <p className="field-warning" role="alert">
                Every record will fail with <code>input_required</code>: {flow.name} asks a human. Turn Interactive on, or set{" "}
                <code>{fallbackParam}</code>.
              </p>
            ) : null}
            <FieldError id="interactive-error" messages={errors.interactive} />
          </div>
          <div className="field">
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
                  min={0}
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
      </section>

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" value="launch" disabled={create.isPending}>
          {create.isPending ? "Launching…" : "Launch batch"}
        </button>
        <button type="submit" className="btn" value="dry-run" disabled={create.isPending}>
          Dry run (first 10 records)
        </button>
        <Link href="/batches" className="btn btn-ghost">
          Cancel
        </Link>
      </div>
    </form>
  );
}

function Field({
  id,
  label,
  hint,
  errors,
  wide,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  errors?: string[];
  wide?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={`field${wide ? " field-wide" : ""}${errors?.length ? " has-error" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? <span className="field-hint">{hint}</span> : null}
      <FieldError id={`${id}-error`} messages={errors} />
    </div>
  );
}
