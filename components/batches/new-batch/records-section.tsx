"use client";
// The form's records: a dataset, or records pasted or loaded from a file (parsed in the browser, so
// the count and any line that does not parse show before launching).
import { useState } from "react";
import { parseRecords, type RecordsFormat } from "@/lib/client/records";
import type { Dataset, Flow } from "@/lib/client/types";
import { FieldError } from "../field-error";
import { Field } from "./field";
import type { Errors, Source } from "./form-model";

function formatOfFile(name: string): RecordsFormat {
  const lower = name.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".json")) return "json";
  if (/\.(jsonl|ndjson)$/.test(lower)) return "jsonl";
  return "auto";
}

export function RecordsSection({
  flow,
  datasets,
  datasetsFailed,
  source,
  onSource,
  errors,
}: {
  flow: Flow;
  datasets: Dataset[];
  datasetsFailed: boolean;
  source: Source;
  onSource: (change: Partial<Source>) => void;
  errors: Errors;
}) {
  const [loadedFile, setLoadedFile] = useState<string | null>(null);
  const preview = source.kind === "records" && source.recordsText.trim() ? parseRecords(source.recordsText, source.recordsFormat) : null;

  async function loadFile(file: File) {
    onSource({ recordsText: await file.text(), recordsFormat: formatOfFile(file.name) });
    setLoadedFile(`${file.name} (${file.size.toLocaleString("en-US")} bytes)`);
  }

  return (
    <section className="card form-section" aria-labelledby="sec-source">
      <h2 id="sec-source">Records</h2>
      <div className="segmented" role="radiogroup" aria-label="Source">
        <label>
          <input type="radio" name="source" checked={source.kind === "dataset"} onChange={() => onSource({ kind: "dataset" })} /> A dataset
        </label>
        <label>
          <input type="radio" name="source" checked={source.kind === "records"} onChange={() => onSource({ kind: "records" })} /> Paste or upload
          records
        </label>
      </div>
      {source.kind === "dataset" ? (
        <div className="source-field">
          <Field id="dataset" label="Dataset" errors={errors.dataset} hint={datasetsFailed ? "Could not load datasets." : undefined}>
            <select id="dataset" value={source.dataset} onChange={(e) => onSource({ dataset: e.target.value })}>
              <option value="">{flow.default_dataset ? `Flow default (${flow.default_dataset})` : "Choose a dataset…"}</option>
              {datasets.map((d) => (
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
              value={source.recordsText}
              onChange={(e) => {
                onSource({ recordsText: e.target.value });
                setLoadedFile(null);
              }}
              placeholder={'[{"id": "r1", "text": "hello"}, {"id": "r2", "text": "world"}]'}
              spellCheck={false}
            />
          </Field>
          <div className="form-row">
            <label className="inline-field">
              <span>Format</span>
              <select
                aria-label="Records format"
                value={source.recordsFormat}
                onChange={(e) => onSource({ recordsFormat: e.target.value as RecordsFormat })}
              >
                <option value="auto">Auto-detect</option>
                <option value="json">JSON array</option>
                <option value="jsonl">JSONL</option>
                <option value="csv">CSV</option>
                <option value="lines">One per line</option>
              </select>
            </label>
            <label className="inline-field">
              <span>Record id field</span>
              <input
                aria-label="Record id field"
                className="input-sm"
                value={source.recordIdField}
                onChange={(e) => onSource({ recordIdField: e.target.value })}
              />
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
              {preview ? (preview.ok ? `${preview.records.length.toLocaleString("en-US")} records (${preview.format})` : preview.message) : ""}
            </span>
          </div>
          <FieldError id="record-id-field-error" messages={errors.record_id_field} />
        </>
      )}
    </section>
  );
}
