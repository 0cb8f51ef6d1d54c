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

/** What a prompt that no longer takes answers became, as the API tells it (a 409's details, or GET /api/prompts/{id}). */
export interface Closed {
  status: Prompt["status"];
  answeredBy: string | null;
  answeredAt: string | null;
  answer: unknown;
}

/**
 * A card's local state in this tab, beside what the open list says:
 *  - sending / sent: answered here, hidden at once (optimistic); sent ones go when the list drops them
 *  - refused: the server kept another answer (409); shown with it until dismissed
 *  - closed: the card under the cursor left the open list (answered elsewhere, expired, cancelled);
 *    kept on screen so no keystroke meant for it lands on the card that would slide into its place
 *  - failed: the answer was not accepted (422, network): the card is open again with the message
 */
export type CardState =
  | { kind: "sending" }
  | { kind: "sent" }
  | { kind: "refused"; attempted: string; closed: Closed | null }
  | { kind: "closed"; attempted: string | null }
  | { kind: "failed"; message: string };

export interface LocalCard {
  prompt: Prompt;
  state: CardState;
}

export interface Card {
  prompt: Prompt;
  /** null: an open prompt with nothing local */
  state: CardState | null;
}

export const takesAnswers = (c: Card) => c.state === null || c.state.kind === "failed";

const byListOrder = (a: Prompt, b: Prompt) =>
  a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** The cards on screen, in the open list's order (oldest first): open prompts and the ones kept locally, without the hidden. */
export function visibleCards(open: readonly Prompt[], local: ReadonlyMap<string, LocalCard>): Card[] {
  const cards = new Map<string, Card>();
  for (const p of open) cards.set(p.id, { prompt: p, state: local.get(p.id)?.state ?? null });
  for (const [id, l] of local) if (!cards.has(id)) cards.set(id, { prompt: l.prompt, state: l.state });
  return [...cards.values()]
    .filter((c) => c.state?.kind !== "sending" && c.state?.kind !== "sent")
    .sort((a, b) => byListOrder(a.prompt, b.prompt));
}

/**
 * The local states once the open list reads `openIds`: a sent card the list dropped is done; the
 * active card or a failed one that left it is closed; `activeId` names the card under the cursor.
 */
export function reconcile(
  local: ReadonlyMap<string, LocalCard>,
  openIds: ReadonlySet<string>,
  active: Prompt | null,
): Map<string, LocalCard> | null {
  let next: Map<string, LocalCard> | null = null;
  const edit = () => (next ??= new Map(local));
  for (const [id, l] of local) {
    if (openIds.has(id)) continue;
    if (l.state.kind === "sent") edit().delete(id);
    else if (l.state.kind === "failed") edit().set(id, { prompt: l.prompt, state: { kind: "closed", attempted: null } });
  }
  if (active && !openIds.has(active.id) && !local.has(active.id)) edit().set(active.id, { prompt: active, state: { kind: "closed", attempted: null } });
  return next;
}

/** The card to move to from `id`: the next one on screen, else the one before; never `id` itself. */
export function neighbour(cards: readonly Card[], id: string, step: 1 | -1 = 1): Card | null {
  const i = cards.findIndex((c) => c.prompt.id === id);
  if (i < 0) return cards[0] ?? null;
  return cards[i + step] ?? cards[i - step] ?? null;
}

/** An answer as a person reads it: a choice's label, Yes/No, or the JSON. */
export function formatAnswer(input: PromptInput | undefined, value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (input?.type === "choice" && typeof value === "string") return input.options.find((o) => o.value === value)?.label || value;
  if (typeof value === "boolean") return value ? "Yes" : "No";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A 409's details, read back (lib/engine/prompts.ts writes status, answered_by, answered_at and answer). */
export function closedFromDetails(details: readonly Record<string, unknown>[]): Closed | null {
  const d = details.find((x) => typeof x.status === "string");
  if (!d) return null;
  return {
    status: d.status as Prompt["status"],
    answeredBy: typeof d.answered_by === "string" ? d.answered_by : null,
    answeredAt: typeof d.answered_at === "string" ? d.answered_at : null,
    answer: d.answer ?? null,
  };
}
