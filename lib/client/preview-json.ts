// A one-line JSON preview that stops after `max` characters: walks the value instead of
// stringifying it whole, so a multi-megabyte record costs no more than a short one.
export function previewJson(value: unknown, max = 240): string {
  let out = "";
  const push = (s: string) => {
    out += s;
    return out.length < max;
  };
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== "object") {
      const s = typeof v === "string" ? JSON.stringify(v.length > max ? v.slice(0, max) : v) : String(JSON.stringify(v) ?? "null");
      return push(s);
    }
    if (Array.isArray(v)) {
      if (!push("[")) return false;
      for (let i = 0; i < v.length; i++) {
        if (i && !push(", ")) return false;
        if (!walk(v[i])) return false;
      }
      return push("]");
    }
    if (!push("{")) return false;
    let first = true;
    for (const k in v as Record<string, unknown>) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      if (!first && !push(", ")) return false;
      first = false;
      if (!push(`${JSON.stringify(k)}: `)) return false;
      if (!walk((v as Record<string, unknown>)[k])) return false;
    }
    return push("}");
  };
  return walk(value) ? out : `${out.slice(0, max)}…`;
}
