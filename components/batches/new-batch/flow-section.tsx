"use client";
// The form's first section: which flow, the batch's name, and the flow's parameters (generated from
// its JSON Schema).
import type { FieldValues, SchemaField } from "@/lib/client/json-schema";
import type { Flow } from "@/lib/client/types";
import { FieldError } from "../field-error";
import { SchemaFields } from "../schema-fields";
import { Field } from "./field";
import { chosenMode, type Errors } from "./form-model";

export function FlowSection({
  flows,
  flow,
  onFlow,
  name,
  onName,
  fields,
  values,
  onValue,
  errors,
  runAgain,
}: {
  flows: Flow[];
  flow: Flow;
  onFlow: (name: string) => void;
  name: string;
  onName: (name: string) => void;
  fields: SchemaField[];
  values: FieldValues;
  onValue: (name: string, value: string | boolean) => void;
  errors: Errors;
  /** running a batch again: its flow stays, and the name and parameters it changes are marked */
  runAgain?: { nameChanged: boolean; changedParameters: ReadonlySet<string> };
}) {
  return (
    <section className="card form-section" aria-labelledby="sec-flow">
      <h2 id="sec-flow">Flow</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="flow">Flow</label>
          <select id="flow" value={flow.name} onChange={(e) => onFlow(e.target.value)} disabled={!!runAgain}>
            {flows.map((f) => (
              <option key={f.name} value={f.name}>
                {f.name}
              </option>
            ))}
          </select>
          <span className="field-hint">{flow.description}</span>
          <FieldError id="flow-error" messages={errors.flow} />
        </div>
        <Field id="name" label="Name" hint="optional, shown in the batches list" errors={errors.name} changed={runAgain?.nameChanged}>
          <input id="name" value={name} onChange={(e) => onName(e.target.value)} placeholder={`${flow.name} run`} />
        </Field>
      </div>
      <h3 className="subhead">Parameters</h3>
      <SchemaFields key={flow.name} fields={fields} values={values} errors={errors} onChange={onValue} changed={runAgain?.changedParameters} />
      {chosenMode(values) === "provider_batch" ? (
        <p className="form-note" role="note" aria-label="Provider batch mode">
          <strong>Provider batch:</strong> the records go to the provider&apos;s batch tier in groups of the chunk size, at about half the price of live
          calls. Results come back within the provider&apos;s window (up to 24 hours), and the records wait there holding no worker slot.
        </p>
      ) : null}
    </section>
  );
}
