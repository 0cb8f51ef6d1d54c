// A batch's configuration as label/value rows, generic over its parameters and options objects: an
// option the API gains later shows on the batch page with no change here.

export interface ConfigEntry {
  key: string;
  value: string;
  /** null or absent: the default applies */
  unset: boolean;
}

export function formatConfigValue(v: unknown): string {
  if (v === null || v === undefined) return "not set";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** One row per key, in the object's own order. */
export function configEntries(obj: Record<string, unknown> | null | undefined): ConfigEntry[] {
  return Object.entries(obj ?? {}).map(([key, v]) => ({ key, value: formatConfigValue(v), unset: v === null || v === undefined }));
}
