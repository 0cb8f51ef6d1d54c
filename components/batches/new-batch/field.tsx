import type { ReactNode } from "react";
import { FieldError } from "../field-error";

/** A labelled form field with its hint and the errors the form or the API gave for it. */
export function Field({
  id,
  label,
  hint,
  errors,
  wide,
  changed,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  errors?: string[];
  wide?: boolean;
  /** differs from the batch being run again */
  changed?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={`field${wide ? " field-wide" : ""}${errors?.length ? " has-error" : ""}${changed ? " is-changed" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? <span className="field-hint">{hint}</span> : null}
      <FieldError id={`${id}-error`} messages={errors} />
    </div>
  );
}
