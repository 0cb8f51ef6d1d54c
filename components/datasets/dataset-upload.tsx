"use client";
// Drag-and-drop upload: the raw file goes up as the request body (CSV, JSONL or JSON) with a
// progress bar fed by XMLHttpRequest's upload events.
import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRef, useState, type DragEvent } from "react";
import { ApiError, guessUploadFormat, uploadDataset, type UploadFormat } from "@/lib/client/api";
import { formatBytes } from "@/lib/client/format";
import { datasetKeys } from "@/lib/client/keys";
import type { Dataset } from "@/lib/client/types";

type State =
  | { phase: "idle" }
  | { phase: "uploading"; fraction: number }
  | { phase: "done"; dataset: Dataset }
  | { phase: "error"; message: string; details: string[] };

export function DatasetUpload() {
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [format, setFormat] = useState<UploadFormat | "">("");
  const [idField, setIdField] = useState("");
  const [dragging, setDragging] = useState(false);
  const [state, setState] = useState<State>({ phase: "idle" });
  const abort = useRef<AbortController | null>(null);

  function pick(f: File | undefined) {
    if (!f) return;
    setFile(f);
    setName(f.name.replace(/\.[^.]+$/, ""));
    setFormat(guessUploadFormat(f.name) ?? "");
    setState({ phase: "idle" });
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    pick(e.dataTransfer.files[0]);
  }

  async function upload() {
    if (!file || !format || !name.trim()) return;
    abort.current = new AbortController();
    setState({ phase: "uploading", fraction: 0 });
    try {
      const dataset = await uploadDataset(
        file,
        { name: name.trim(), format, idField: idField.trim() || undefined },
        (fraction) => setState({ phase: "uploading", fraction }),
        abort.current.signal,
      );
      setState({ phase: "done", dataset });
      setFile(null);
      void qc.invalidateQueries({ queryKey: datasetKeys.all });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") setState({ phase: "idle" });
      else
        setState({
          phase: "error",
          message: e instanceof Error ? e.message : String(e),
          details: e instanceof ApiError ? e.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)) : [],
        });
    }
  }

  const uploading = state.phase === "uploading";
  return (
    <section className="card upload" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload a dataset</h2>
      <label
        className={`dropzone${dragging ? " is-dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <input
          type="file"
          className="visually-hidden"
          aria-label="Dataset file"
          accept=".csv,.jsonl,.ndjson,.json"
          onChange={(e) => {
            pick(e.target.files?.[0]);
            e.target.value = "";
          }}
        />
        {file ? (
          <span>
            <strong>{file.name}</strong> <span className="muted">({formatBytes(file.size)})</span>
          </span>
        ) : (
          <span>
            Drop a <strong>CSV</strong>, <strong>JSONL</strong> or <strong>JSON</strong> file here, or <u>choose a file</u>
          </span>
        )}
      </label>
      {file ? (
        <div className="form-row upload-options">
          <label className="inline-field">
            <span>Name</span>
            <input aria-label="Dataset name" value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <label className="inline-field">
            <span>Format</span>
            <select aria-label="Format" value={format} onChange={(e) => setFormat(e.target.value as UploadFormat)}>
              <option value="">Choose…</option>
              <option value="csv">CSV</option>
              <option value="jsonl">JSONL</option>
              <option value="json">JSON</option>
            </select>
          </label>
          <label className="inline-field">
            <span>Id field</span>
            <input aria-label="Id field" className="input-sm" placeholder="id" value={idField} onChange={(e) => setIdField(e.target.value)} />
          </label>
          <button type="button" className="btn btn-primary" disabled={uploading || !format || !name.trim()} onClick={() => void upload()}>
            Upload
          </button>
          {uploading ? (
            <button type="button" className="btn" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          ) : null}
        </div>
      ) : null}
      {uploading ? (
        <div className="upload-progress">
          <div className="meter" role="progressbar" aria-label="Upload progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(state.fraction * 100)}>
            <span style={{ width: `${state.fraction * 100}%` }} />
          </div>
          <span className="muted small">{state.fraction >= 1 ? "Processing…" : `${Math.round(state.fraction * 100)}%`}</span>
        </div>
      ) : null}
      {state.phase === "done" ? (
        <p role="status" className="alert alert-ok">
          Uploaded <Link href={`/datasets/${state.dataset.id}`}>{state.dataset.name}</Link>: {state.dataset.record_count.toLocaleString("en-US")} records.{" "}
          <Link href={`/batches/new?dataset=${encodeURIComponent(state.dataset.id)}`}>Launch a batch on it</Link>
        </p>
      ) : null}
      {state.phase === "error" ? (
        <div role="alert" className="alert alert-error">
          <strong>Upload failed: {state.message}</strong>
          {state.details.length ? (
            <ul>
              {state.details.slice(0, 10).map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
