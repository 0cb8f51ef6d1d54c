import { randomBytes } from "node:crypto";

/** Sortable-enough, URL-safe ids with a type prefix (`batch_…`, `prm_…`). */
export function newId(prefix: string): string {
  const time = Date.now().toString(36).padStart(9, "0");
  return `${prefix}_${time}${randomBytes(8).toString("hex")}`;
}
