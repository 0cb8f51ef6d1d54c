"use client";
// Drag-and-drop upload: one CSV, JSONL or JSON file goes up as the request body (a dataset of its
// records); a folder or many files go up as one multipart request (a dataset of files). Progress
// comes from XMLHttpRequest's upload events.
import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRef, useState, type DragEvent } from "react";
import { ApiError, guessUploadFormat, uploadDataset, uploadFiles, type UploadFile, type UploadFormat } from "@/lib/client/api";
import { formatBytes } from "@/lib/client/format";
import { datasetKeys } from "@/lib/client/keys";
import type { Dataset } from "@/lib/client/types";
import { droppedFiles, folderName, pickedFiles } from "./dropped-files";

// React types no webkitdirectory; the attribute is what browsers read
const FOLDER_PICKER = { webkitdirectory: "" } as object;

type State =
  | { phase: "idle" }
  | { phase: "uploading"; fraction: number }
  | { phase: "done"; dataset: Dataset }
  | { phase: "error"; message: string; details: string[] };

export function DatasetUpload() {
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  /** a folder's or a selection's files: uploaded as a dataset of files */
  const [files, setFiles] = useState<UploadFile[] | null>(null);
  const [name, setName] = useState("");
  const [format, setFormat] = useState<UploadFormat | "">("");
  const [idField, setIdField] = useState("");
  const [dragging, setDragging] = useState(false);
  const [state, setState] = useState<State>({ phase: "idle" });
  const abort = useRef<AbortController | null>(null);

  function pick(f: File | undefined) {
    if (!f) return;
    setFile(f);
    setFiles(null);
    setName(f.name.replace(/\.[^.]+$/, ""));
    setFormat(guessUploadFormat(f.name) ?? "");
    setState({ phase: "idle" });
  }

  /** One file of records stays a dataset of its records; a folder, many files or one PDF become files. */
  function pickMany(list: UploadFile[], fromFolder: boolean) {
    if (list.length === 0) return;
    if (list.length === 1 && !fromFolder && guessUploadFormat(list[0]!.file.name)) return pick(list[0]!.file);
    setFile(null);
    setFiles(list);
    setName(folderName(list));
    setState({ phase: "idle" });
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    const { hasFolder, files: pending } = droppedFiles(e.dataTransfer);
    pending.then(
      (list) => pickMany(list, hasFolder),
      (err: unknown) => setState({ phase: "error", message: `the folder could not be read: ${err instanceof Error ? err.message : String(err)}`, details: [] }),
    );
  }

  async function upload() {
    if (!name.trim() || !(files || (file && format))) return;
    abort.current = new AbortController();
    setState({ phase: "uploading", fraction: 0 });
    const progress = (fraction: number) => setState({ phase: "uploading", fraction });
    try {
      const dataset = files
        ? await uploadFiles(files, { name: name.trim() }, progress, abort.current.signal)
        : await uploadDataset(file!, { name: name.trim(), format: format as UploadFormat, idField: idField.trim() || undefined }, progress, abort.current.signal);
      setState({ phase: "done", dataset });
      setFile(null);
      setFiles(null);
      void qc.invalidateQueries({ queryKey: datasetKeys.all });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") setState({ phase: "idle" });
      else
        setState({
          phase: "error",
          message: e instanceof Error ? e.message : String(e),
          details: e instanceof ApiError ? e.details.map(detailText) : [],
        });
    }
  }

  const uploading = state.phase === "uploading";
  const totalBytes = files?.reduce((sum, f) => sum + f.file.size, 0) ?? 0;
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
        ) : files ? (
          <span data-testid="selected-files">
            <strong>
              {files.length.toLocaleString("en-US")} {files.length === 1 ? "file" : "files"}
            </strong>{" "}
            <span className="muted">({formatBytes(totalBytes)} in all)</span>
          </span>
        ) : (
          <span>
            Drop a <strong>CSV</strong>, <strong>JSONL</strong> or <strong>JSON</strong> file, or a <strong>folder</strong> of files (PDFs, images,
            text), here, or <u>choose a file</u>
          </span>
        )}
      </label>
      <p className="upload-pickers small muted">
        Or upload many files as a dataset of files, one record each:{" "}
        <label className="link-like">
          choose files
          <input
            type="file"
            multiple
            className="visually-hidden"
            aria-label="Files"
            onChange={(e) => {
              pickMany(pickedFiles(e.target.files), false);
              e.target.value = "";
            }}
          />
        </label>{" "}
        or{" "}
        <label className="link-like">
          choose a folder
          <input
            type="file"
            multiple
            {...FOLDER_PICKER}
            className="visually-hidden"
            aria-label="Folder"
            onChange={(e) => {
              pickMany(pickedFiles(e.target.files), true);
              e.target.value = "";
            }}
          />
        </label>
      </p>
      {files ? (
        <div className="form-row upload-options">
          <label className="inline-field">
            <span>Name</span>
            <input aria-label="Dataset name" value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <button type="button" className="btn btn-primary" disabled={uploading || !name.trim()} onClick={() => void upload()}>
            Upload {files.length.toLocaleString("en-US")} {files.length === 1 ? "file" : "files"}
          </button>
          {uploading ? (
            <button type="button" className="btn" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          ) : null}
        </div>
      ) : null}
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
          Uploaded <Link href={`/datasets/${state.dataset.id}`}>{state.dataset.name}</Link>: {state.dataset.record_count.toLocaleString("en-US")}{" "}
          {state.dataset.format === "files" ? "files" : "records"}.{" "}
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

/** An error detail as a line: a refused file by its path, else the field. */
function detailText(d: { path?: string; message: string; file?: unknown }): string {
  if (typeof d.file === "string") return `${d.file}: ${d.message}`;
  return d.path ? `${d.path}: ${d.message}` : d.message;
}
