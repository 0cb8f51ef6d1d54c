"use client";

import type { FieldValues, SchemaField } from "@/lib/client/json-schema";
import { FieldError } from "./field-error";

/** The inputs generated from a flow's parameter schema. */
export function SchemaFields({
  fields,
  values,
  errors,
  onChange,
  changed,
}: {
  fields: SchemaField[];
  values: FieldValues;
  errors: Record<string, string[]>;
  onChange: (name: string, value: string | boolean) => void;
  /** parameter names whose value differs from the batch being run again */
  changed?: ReadonlySet<string>;
}) {
  if (!fields.length) return <p className="muted">This flow takes no parameters.</p>;
  return (
    <div className="form-grid">
      {fields.map((f) => {
        const id = `param-${f.name}`;
        const path = `parameters.${f.name}`;
        const err = errors[path];
        const describedBy = [f.description ? `${id}-hint` : "", err ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
        const common = { id, "aria-invalid": err ? true : undefined, "aria-describedby": describedBy } as const;
        const v = values[f.name];
        let input;
        if (f.kind === "boolean") {
          return (
            <div key={f.name} className={`field field-check${changed?.has(f.name) ? " is-changed" : ""}`}>
              <label htmlFor={id}>
                <input type="checkbox" {...common} checked={v === true} onChange={(e) => onChange(f.name, e.target.checked)} />{" "}
                {f.name}
              </label>
              {f.description ? (
                <span className="field-hint" id={`${id}-hint`}>
                  {f.description}
                </span>
              ) : null}
              <FieldError id={`${id}-error`} messages={err} />
            </div>
          );
        }
        if (f.kind === "enum") {
          input = (
            <select {...common} value={String(v ?? "")} onChange={(e) => onChange(f.name, e.target.value)}>
              {!f.required || f.default === undefined ? <option value="">{f.default === undefined ? "—" : "(default)"}</option> : null}
              {f.options.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          );
        } else if (f.kind === "json") {
          input = (
            <textarea
              {...common}
              rows={4}
              value={String(v ?? "")}
              placeholder={f.schema.type === "array" ? "[ … ] as JSON" : "{ … } as JSON"}
              onChange={(e) => onChange(f.name, e.target.value)}
            />
          );
        } else if (f.kind === "number" || f.kind === "integer") {
          input = (
            <input
              {...common}
              type="number"
              inputMode={f.kind === "integer" ? "numeric" : "decimal"}
              step={f.kind === "integer" ? 1 : "any"}
              min={f.schema.minimum}
              max={f.schema.maximum}
              value={String(v ?? "")}
              onChange={(e) => onChange(f.name, e.target.value)}
            />
          );
        } else if ((f.schema.maxLength ?? 0) > 200) {
          input = <textarea {...common} rows={3} value={String(v ?? "")} onChange={(e) => onChange(f.name, e.target.value)} />;
        } else {
          input = (
            <input
              {...common}
              type={f.schema.format === "uri" || f.schema.format === "url" ? "url" : "text"}
              value={String(v ?? "")}
              onChange={(e) => onChange(f.name, e.target.value)}
            />
          );
        }
        return (
          <div key={f.name} className={`field${f.kind === "json" ? " field-wide" : ""}${changed?.has(f.name) ? " is-changed" : ""}`}>
            <label htmlFor={id}>
              {f.name}
              {f.required ? <span className="req" aria-hidden> *</span> : null} <span className="field-type">{f.typeLabel}</span>
            </label>
            {input}
            {f.description ? (
              <span className="field-hint" id={`${id}-hint`}>
                {f.description}
              </span>
            ) : null}
            <FieldError id={`${id}-error`} messages={err} />
          </div>
        );
      })}
    </div>
  );
}
