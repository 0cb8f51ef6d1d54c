// Citations per field of a structured answer: which of the provider's citations support each
// top-level field of the JSON the model returned. A citation with a span in the answer (OpenAI's
// url_citation start_index/end_index) supports the fields whose value that span overlaps; one that
// quotes its source (cited_text, as Anthropic's do) supports the fields whose text it contains.

/** [start, end) of each top-level member's value in a JSON object's text; null when the text is not one. */
export function topLevelValueSpans(text: string): Map<string, [number, number]> | null {
  const spans = new Map<string, [number, number]>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const skipString = () => {
    const start = i;
    for (i++; i < text.length; i++) {
      if (text[i] === "\\") i++;
      else if (text[i] === '"') return JSON.parse(text.slice(start, ++i)) as string;
    }
    throw new SyntaxError("unterminated string");
  };
  const skipValue = () => {
    if (text[i] === '"') return void skipString();
    let depth = 0;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"') {
        skipString();
        i--;
      } else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        if (depth === 0) return;
        if (--depth === 0) return void i++;
      } else if (depth === 0 && (c === "," || /\s/.test(c))) return;
    }
  };
  try {
    ws();
    if (text[i] !== "{") return null;
    i++;
    for (;;) {
      ws();
      if (text[i] === "}") return spans;
      if (text[i] !== '"') return null;
      const key = skipString();
      ws();
      if (text[i] !== ":") return null;
      i++;
      ws();
      const start = i;
      skipValue();
      spans.set(key, [start, i]);
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === "}") return spans;
      else return null;
    }
  } catch {
    return null;
  }
}

/** A citation's span in the answer, when it has one. */
function spanOf(c: Record<string, unknown>): [number, number] | null {
  const inner = (typeof c.url_citation === "object" && c.url_citation !== null ? c.url_citation : c) as Record<string, unknown>;
  const start = inner.start_index;
  const end = inner.end_index;
  return typeof start === "number" && typeof end === "number" ? [start, end] : null;
}

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, " ").trim();

/** The text values of a field (a string, or the strings in an array or object), for quote matching. */
function textsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (typeof value === "number") return [String(value)];
  if (Array.isArray(value)) return value.flatMap(textsOf);
  if (value && typeof value === "object") return Object.values(value).flatMap(textsOf);
  return [];
}

/**
 * The citations supporting each top-level field of `parsed` (the JSON in `content`), by field name;
 * fields no citation supports are left out, and so is everything when the answer is not a JSON object.
 */
export function citationsByField(content: string, parsed: unknown, citations: readonly unknown[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  if (!citations.length || !parsed || typeof parsed !== "object" || Array.isArray(parsed)) return out;
  const spans = topLevelValueSpans(content);
  for (const [field, value] of Object.entries(parsed as Record<string, unknown>)) {
    const span = spans?.get(field);
    const texts = textsOf(value).map(norm).filter((t) => t.length >= 2);
    const supporting = citations.filter((c) => {
      if (!c || typeof c !== "object") return false;
      const cs = spanOf(c as Record<string, unknown>);
      if (cs && span) return cs[0] < span[1] && span[0] < cs[1];
      const quoted = (c as { cited_text?: unknown }).cited_text;
      return typeof quoted === "string" && texts.some((t) => norm(quoted).includes(t));
    });
    if (supporting.length) out[field] = supporting;
  }
  return out;
}
