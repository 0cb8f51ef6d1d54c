"use client";
// The New batch form: a flow and its parameters, the records, the run options. Each section is its own
// component; form-model.ts turns the state into the request body and checks it with the API's schema.
// The API's 422 details land at the fields they name ("parameters.url", "concurrency", "records.3").
// Given a batch to run again, the form starts from its settings, marks what changed, and creates the
// new batch through POST /api/batches/{id}/clone on the records chosen.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent } from "react";
import { Loading, QueryError } from "@/components/ui/query-state";
import type { CreateBatchBody } from "@/lib/contract/batch-options";
import { api, ApiError } from "@/lib/client/api";
import { useBatch, useDatasets, useFlows } from "@/lib/client/hooks";
import { initialValues, schemaFields, valuesFromParameters, type FieldValues } from "@/lib/client/json-schema";
import { batchKeys } from "@/lib/client/keys";
import type { Batch } from "@/lib/client/types";
import { FlowSection } from "./flow-section";
import {
  buildBody,
  changedOptions,
  cloneBodyOf,
  DEFAULT_OPTS,
  groupErrors,
  OPTION_PATHS,
  optsFromBatch,
  type Errors,
  type Opts,
  type RunAgainRecords,
  type Source,
} from "./form-model";
import { OptionsSection } from "./options-section";
import { RecordsSection } from "./records-section";
import { RunAgainRecordsSection } from "./run-again-records";

export function NewBatchForm({ initialFlow, initialDataset, from }: { initialFlow?: string; initialDataset?: string; from?: string }) {
  const parent = useBatch(from ?? "", { enabled: !!from });
  if (!from) return <BatchForm initialFlow={initialFlow} initialDataset={initialDataset} />;
  if (parent.isLoading) return <Loading label="Loading the batch to run again…" />;
  if (!parent.data) return <QueryError error={parent.error} onRetry={() => void parent.refetch()} what="the batch to run again" />;
  return <BatchForm key={parent.data.id} parent={parent.data} />;
}

function BatchForm({ initialFlow, initialDataset, parent }: { initialFlow?: string; initialDataset?: string; parent?: Batch }) {
  const router = useRouter();
  const qc = useQueryClient();
  const flows = useFlows();
  const datasets = useDatasets();
  const [flowChoice, setFlowChoice] = useState(parent?.flow ?? initialFlow ?? "");
  const [paramsByFlow, setParamsByFlow] = useState<Record<string, FieldValues>>({});
  const [runAgainRecords, setRunAgainRecords] = useState<RunAgainRecords>("all");
  const [initialOpts] = useState<Opts>(() => (parent ? optsFromBatch(parent) : DEFAULT_OPTS));
  const [source, setSource] = useState<Source>({
    kind: "dataset",
    dataset: initialDataset ?? "",
    recordsText: "",
    recordsFormat: "auto",
    recordIdField: "id",
  });
  const [opts, setOpts] = useState<Opts>(initialOpts);
  const [errors, setErrors] = useState<Errors>({});
  const [summary, setSummary] = useState<{ message: string; other: string[] } | null>(null);

  const flowList = flows.data?.items ?? [];
  const flow = flowList.find((f) => f.name === flowChoice) ?? flowList[0];
  const fields = useMemo(() => schemaFields(flow?.parameters_schema), [flow]);
  const startValues = useMemo(() => (parent ? valuesFromParameters(fields, parent.parameters) : initialValues(fields)), [fields, parent]);
  const values = (flow && paramsByFlow[flow.name]) || startValues;
  const knownPaths = useMemo(() => [...OPTION_PATHS, ...fields.map((f) => `parameters.${f.name}`), "parameters"], [fields]);
  const interactive = opts.interactive ?? !!flow?.asks;
  const fallbackParam = flow?.asks?.default_parameter ?? null;
  // the same rule the API warns with: a flow that asks, not interactive, no default answer
  const willFailAll = !!fallbackParam && !interactive && (values[fallbackParam] === undefined || values[fallbackParam] === "");

  const showErrors = (message: string, details: { path?: string; message: string }[]) => {
    const { byField, other } = groupErrors(details, knownPaths);
    setErrors(byField);
    setSummary({ message, other });
  };

  const runAgain = parent
    ? {
        nameChanged: opts.name !== initialOpts.name,
        changedParameters: new Set(fields.filter((f) => String(values[f.name]) !== String(startValues[f.name])).map((f) => f.name)),
        changedOptions: changedOptions(opts, initialOpts),
      }
    : undefined;

  const create = useMutation({
    mutationFn: (body: CreateBatchBody) => (parent ? api.cloneBatch(parent.id, cloneBodyOf(body, runAgainRecords)) : api.createBatch(body)),
    onSuccess: (batch) => {
      qc.setQueryData(batchKeys.detail(batch.id), batch);
      void qc.invalidateQueries({ queryKey: batchKeys.lists() });
      router.push(`/batches/${batch.id}`);
    },
    onError: (err) => {
      if (err instanceof ApiError && err.details.length) showErrors(err.message, err.details);
      else showErrors(err instanceof Error ? err.message : String(err), []);
    },
  });

  const set = <K extends keyof Opts>(k: K, v: Opts[K]) => setOpts((o) => ({ ...o, [k]: v }));

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!flow) return;
    const submitter = (e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    // a run-again takes its parent's records: the source here only has to pass the form's own check
    const runSource: Source = parent ? { ...source, kind: "dataset", dataset: parent.dataset_id ?? "" } : source;
    const built = buildBody({ flow, fields, values, source: runSource, opts, interactive, dryRun: submitter?.value === "dry-run" });
    const details = Object.entries(built.errors).flatMap(([path, messages]) => messages.map((message) => ({ path, message })));
    if (details.length) {
      showErrors("Fix the highlighted fields.", details);
      return;
    }
    setErrors({});
    setSummary(null);
    create.mutate(built.body);
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

      <FlowSection
        flows={flowList}
        flow={flow}
        onFlow={(name) => {
          setFlowChoice(name);
          set("interactive", null);
        }}
        name={opts.name}
        onName={(name) => set("name", name)}
        fields={fields}
        values={values}
        onValue={(name, v) => setParamsByFlow((p) => ({ ...p, [flow.name]: { ...values, [name]: v } }))}
        errors={errors}
        runAgain={runAgain}
      />
      {parent ? (
        <RunAgainRecordsSection parent={parent} value={runAgainRecords} onChange={setRunAgainRecords} errors={errors} />
      ) : (
        <RecordsSection
          flow={flow}
          datasets={datasets.data?.items ?? []}
          datasetsFailed={datasets.isError}
          source={source}
          onSource={(change) => setSource((s) => ({ ...s, ...change }))}
          errors={errors}
        />
      )}
      <OptionsSection
        flow={flow}
        values={values}
        fields={fields}
        opts={opts}
        set={set}
        interactive={interactive}
        willFailAll={willFailAll}
        errors={errors}
        changed={runAgain?.changedOptions}
      />

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" value="launch" disabled={create.isPending}>
          {create.isPending ? "Launching…" : parent ? "Run again" : "Launch batch"}
        </button>
        <button type="submit" className="btn" value="dry-run" disabled={create.isPending}>
          Dry run (first 10 records)
        </button>
        {runAgain ? (
          <span className="muted small" role="status">
            {runAgain.changedParameters.size + runAgain.changedOptions.size + (runAgain.nameChanged ? 1 : 0) || "No"} changed{" "}
            {runAgain.changedParameters.size + runAgain.changedOptions.size + (runAgain.nameChanged ? 1 : 0) === 1 ? "setting" : "settings"}
          </span>
        ) : null}
        <Link href={parent ? `/batches/${parent.id}` : "/batches"} className="btn btn-ghost">
          Cancel
        </Link>
      </div>
    </form>
  );
}
