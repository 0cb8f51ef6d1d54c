/** One file of an upload (a multipart part, a zip entry), its bytes not yet read. */
export interface IncomingFile {
  /** its path inside the upload: becomes the record id */
  path: string;
  /** the Content-Type a client sent with it, if any */
  declaredType: string | null;
  body: AsyncIterable<Uint8Array>;
}

export interface FileLimits {
  maxFileBytes: number;
  maxFiles: number;
  /** the files' bytes together (unpacked) */
  maxTotalBytes: number;
  maxZipRatio: number;
}

/** A file record's data (dataset_records.data). */
export interface FileRecord {
  id: string;
  filename: string;
  content_type: string;
  bytes: number;
  sha256: string;
}
