// JSON the system cannot store. Nesting past MAX_JSON_DEPTH: JSON.parse copes, but JSON.stringify and
// PostgreSQL's jsonb recurse per level and overflow their stacks a few thousand levels down.
// Text PostgreSQL cannot store: U+0000 in text or jsonb, and half of a UTF-16 surrogate pair (what an
// emoji cut by .slice() leaves). JSON spells both as escapes (\u0000, \ud83d) and jsonb refuses them;
// a text parameter with NUL fails too. Input from a caller is refused with the field named
// (findUnstorable); output of our own code (a flow's result, log or prompt) is cleaned: NUL dropped,
// a lone surrogate turned into U+FFFD, as TextEncoder does.

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

export const storableText = (s: string): string => (s.includes("\0") ? s.replaceAll("\0", "") : s).replace(LONE_SURROGATES, "\ufffd");

export const storableValue = (v: unknown): unknown => {
  if (typeof v === "string") return storableText(v);
  if (Array.isArray(v)) return v.map(storableValue);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableText(k), storableValue(x)]));
  return v;
};

// JSON.stringify spells NUL as \u0000 and a lone surrogate as \udXXX (a whole pair stays literal)
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i;
/** Whether JSON text may hold such a string: only an escape can spell one (a native scan first). */
const mayBeUnstorable = (json: string): boolean => json.includes("\\u") && UNSTORABLE_ESCAPE.test(json);

/** `json` (JSON text) without U+0000 or lone surrogates in any string or key; a quick scan first, a rebuild only if needed. */
export const storableJson = (json: string): string => (mayBeUnstorable(json) ? JSON.stringify(storableValue(JSON.parse(json))) : json);

const problem = (s: string): string | null =>
  s.includes("\0") ? "must not contain U+0000 (NUL)" : LONE_SURROGATE.test(s) ? "must not contain half of a UTF-16 surrogate pair" : null;

/**
 * The first string or key in `value` that PostgreSQL cannot store, with its path ("parameters.question",
 * "records.3.text"), or null. `json`, the text `value` was parsed from, lets the common case skip the
 * walk: such a string can only come from an escape (raw control characters are not valid JSON, and
 * invalid UTF-8 decodes to U+FFFD).
 */
export function findUnstorable(value: unknown, json?: string): { path: string; message: string } | null {
  if (json !== undefined && !mayBeUnstorable(json)) return null;
  const walk = (v: unknown, path: (string | number)[]): { path: string; message: string } | null => {
    if (typeof v === "string") {
      const p = problem(v);
      return p ? { path: path.join("."), message: `text ${p}` } : null;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const r = walk(v[i], [...path, i]);
        if (r) return r;
      }
      return null;
    }
    if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        const p = problem(k);
        if (p) return { path: [...path, storableText(k)].join("."), message: `a key ${p}` };
        const r = walk(x, [...path, k]);
        if (r) return r;
      }
    }
    return null;
  };
  return walk(value, []);
}

/** The largest value of a PostgreSQL `integer` column (declared with the wire schemas that check against it). */
export { INT4_MAX } from "@/lib/contract/wire";

/** How deep JSON input may nest: deep enough for any real record (Jackson's default limit is 1,000). */
export const MAX_JSON_DEPTH = 256;

/**
 * Whether JSON `text` opens more than `max` arrays and objects inside one another. Strings are skipped
 * with indexOf (native): a 13 MB body of 100,000 records takes ~27 ms here.
 */
export function jsonNestedDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  if (text.length <= 2 * max) return false; // too short to open and close that many
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // the closing quote: the next one not escaped by an odd run of backslashes
      let j = text.indexOf('"', i + 1);
      for (;;) {
        if (j < 0) return false; // an unterminated string: JSON.parse reports it
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c /* backslash */) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      i = j;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}
