// A file's path inside an upload (a folder's relative path, a zip entry's name) becomes its record id:
// relative, "/"-separated, inside the upload's root. Anything else is refused, naming the file.
import { AppError } from "@/lib/errors";

export function badFile(path: string, message: string, code: "validation_failed" | "payload_too_large" | "limit_exceeded" = "validation_failed"): AppError {
  return new AppError(code, `${JSON.stringify(path)}: ${message}`, [{ path: "file", file: path, message }]);
}

/** Files that folders and zips carry without anyone meaning to send them. */
export function isJunkPath(path: string): boolean {
  return /(^|\/)(__MACOSX|\.DS_Store|Thumbs\.db|desktop\.ini)(\/|$)/i.test(path) || /(^|\/)\._[^/]*$/.test(path);
}

/** The path as a record id; 422 when it is absolute, climbs out of the root, or is empty. */
export function filePathId(raw: string): string {
  const path = raw.replaceAll("\\", "/");
  if (/[\u0000-\u001f\u007f]/.test(path)) throw badFile(raw, "the path must not contain control characters");
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) throw badFile(raw, "absolute paths are refused: the path must be relative to the upload's root");
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw badFile(raw, "the path leads outside the upload's root (..)");
  if (segments.length === 0) throw badFile(raw, "the file has no name");
  const id = segments.join("/");
  if (id.length > 512) throw badFile(raw.slice(0, 80), "the path is longer than 512 characters");
  return id;
}
