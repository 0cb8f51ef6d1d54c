// The files of a drop or a picker, with their paths inside the upload: a dropped folder is walked
// (FileSystemDirectoryEntry), a folder picked through <input webkitdirectory> carries webkitRelativePath.
import type { UploadFile } from "@/lib/client/api";

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries hands out a directory's entries a batch (about 100) at a time, until an empty batch
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        next();
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: UploadFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: entry.fullPath.replace(/^\/+/, "") });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, out);
  }
}

/**
 * A drop's files, folders walked. The entries must be taken while the drop event runs (the browser
 * empties the DataTransfer after it), so call this synchronously from the handler and await later.
 */
export function droppedFiles(transfer: DataTransfer): { hasFolder: boolean; files: Promise<UploadFile[]> } {
  const entries = [...transfer.items]
    .filter((i) => i.kind === "file")
    .map((i) => i.webkitGetAsEntry?.() ?? null);
  if (entries.length === 0 || entries.some((e) => e === null)) {
    // no entry API (or a synthetic drop): the plain file list
    return { hasFolder: false, files: Promise.resolve([...transfer.files].map((file) => ({ file, path: file.name }))) };
  }
  const out: UploadFile[] = [];
  const files = (async () => {
    for (const e of entries) await walk(e!, out);
    return out;
  })();
  return { hasFolder: entries.some((e) => e!.isDirectory), files };
}

/** A picker's files: a folder's keep their relative paths. */
export function pickedFiles(list: FileList | null): UploadFile[] {
  return [...(list ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** A name for the dataset: the folder all the files share, else "files". */
export function folderName(files: UploadFile[]): string {
  const first = files[0]?.path.split("/");
  if (!first || first.length < 2) return "files";
  return files.every((f) => f.path.startsWith(`${first[0]}/`)) ? first[0]! : "files";
}
