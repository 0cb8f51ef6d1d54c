// Turns an Inbox draft into the answer a prompt's input asks for, or says why it cannot.
import type { Prompt, PromptInput } from "@/lib/client/types";

export type Check = { ok: true; value: unknown } | { ok: false; message: string };

export function choicesOf(input: PromptInput): { value: string; label: string }[] {
  if (input.type === "choice") return input.options.map((o) => ({ value: o.value, label: o.label || o.value }));
  if (input.type === "boolean")
    return [
      { value: "true", label: "Yes" },
      { value: "false", label: "No" },
    ];
  return [];
}

export function initialDraft(p: Prompt): string {
  if (p.default === null || p.default === undefined) return "";
  if (p.input.type === "json") return JSON.stringify(p.default, null, 2);
  return String(p.default);
}

export function checkAnswer(input: PromptInput, draft: string): Check {
  switch (input.type) {
    case "boolean":
      if (draft === "true" || draft === "false") return { ok: true, value: draft === "true" };
      return { ok: false, message: "Pick yes or no" };
    case "choice": {
      if (!draft) return { ok: false, message: "Pick an option" };
      const known = input.options.some((o) => o.value === draft);
      if (!known && !input.allow_free_text) return { ok: false, message: "Pick one of the options" };
      return { ok: true, value: draft };
    }
    case "number": {
      if (!draft.trim()) return { ok: false, message: "Enter a number" };
      const n = Number(draft);
      if (!Number.isFinite(n)) return { ok: false, message: "Not a number" };
      if (input.min !== undefined && input.min !== null && n < input.min) return { ok: false, message: `At least ${input.min}` };
      if (input.max !== undefined && input.max !== null && n > input.max) return { ok: false, message: `At most ${input.max}` };
      return { ok: true, value: n };
    }
    case "json":
      try {
        return { ok: true, value: JSON.parse(draft) };
      } catch (e) {
        return { ok: false, message: `Not valid JSON: ${(e as Error).message}` };
      }
    case "text":
    default: {
      const max = input.type === "text" ? input.max_length : null;
      if (!draft.trim()) return { ok: false, message: "Enter an answer" };
      if (max && draft.length > max) return { ok: false, message: `At most ${max} characters` };
      return { ok: true, value: draft };
    }
  }
}
