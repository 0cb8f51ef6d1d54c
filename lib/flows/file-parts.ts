// How a dataset's file reaches a chat model: the content part an OpenAI-compatible chat API takes
// for each kind of file. Text goes inline, images as data URLs, PDFs as `file` parts; other types
// cannot be sent and are refused by name (at batch creation, and per record as a defence).
import { isTextType } from "@/lib/datasets/files/content-type";
import type { FileRecord } from "@/lib/datasets/files/types";

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const PDF_TYPE = "application/pdf";
/** The non-text/* types a model can be given (text/* always can). */
export const SENDABLE_TYPES = [PDF_TYPE, ...IMAGE_TYPES, "application/json", "application/x-ndjson", "application/xml", "application/yaml"];
export const SENDABLE_TYPES_TEXT = "PDF, PNG, JPEG, GIF or WebP images, and text files (text/*, JSON, XML, YAML)";

export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } }
  | { type: "file"; file: { filename: string; file_data: string } };

export type FileKind = "text" | "image" | "pdf";

export function fileKind(contentType: string): FileKind | null {
  if (contentType === PDF_TYPE) return "pdf";
  if (IMAGE_TYPES.includes(contentType)) return "image";
  return isTextType(contentType) ? "text" : null;
}

const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString("base64")}`;

/**
 * The part carrying one file. Text must be UTF-8 (a model would read other encodings as garbage);
 * returns null for a type no part exists for, and throws TypeError for text that is not UTF-8.
 */
export function filePart(file: FileRecord, bytes: Buffer): ContentPart | null {
  switch (fileKind(file.content_type)) {
    case "text":
      return { type: "text", text: `File ${file.id}:\n\n${new TextDecoder("utf-8", { fatal: true }).decode(bytes)}` };
    case "image":
      return { type: "image_url", image_url: { url: dataUrl(file.content_type, bytes) } };
    case "pdf":
      return { type: "file", file: { filename: file.filename, file_data: dataUrl(PDF_TYPE, bytes) } };
    default:
      return null;
  }
}
