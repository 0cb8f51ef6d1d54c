"use client";
// Running a batch again: its records stay; the choice is which of them run (all, or those that
// failed or were cancelled).
import Link from "next/link";
import type { Batch } from "@/lib/client/types";
import { FieldError } from "../field-error";
import type { Errors, RunAgainRecords } from "./form-model";

export function RunAgainRecordsSection({
  parent,
  value,
  onChange,
  errors,
}: {
  parent: Batch;
  value: RunAgainRecords;
  onChange: (v: RunAgainRecords) => void;
  errors: Errors;
}) {
  const p = parent.progress;
  const choices: [RunAgainRecords, string, number][] = [
    ["all", "All records", p.total],
    ["failed", "Only the failed ones", p.failed],
    ["cancelled", "Only the cancelled ones", p.cancelled],
  ];
  return (
    <section className="card form-section" aria-labelledby="sec-source">
      <h2 id="sec-source">Records</h2>
      <p className="muted">
        The records of <Link href={`/batches/${parent.id}`}>{parent.name || parent.id}</Link>.
      </p>
      <div className="segmented" role="radiogroup" aria-label="Records to run again">
        {choices.map(([v, label, n]) => (
          <label key={v}>
            <input type="radio" name="run-again-records" checked={value === v} disabled={n === 0} onChange={() => onChange(v)} /> {label} (
            {n.toLocaleString("en-US")})
          </label>
        ))}
      </div>
      <FieldError id="records-error" messages={errors.records} />
    </section>
  );
}
