// The Inbox's card bookkeeping: which cards are on screen, what happens when one leaves the open
// list, and where the cursor goes next.
import { describe, expect, it } from "vitest";
import type { Prompt } from "@/lib/client/types";
import { closedFromDetails, formatAnswer, neighbour, reconcile, visibleCards, type LocalCard } from "./answer";

const prompt = (id: string, second: number): Prompt => ({
  id,
  batch_id: "b1",
  record_id: `r-${id}`,
  key: "label",
  question: "How would you label this record?",
  input: { type: "choice", options: [{ value: "positive" }, { value: "negative", label: "Negative" }], allow_free_text: false },
  default: null,
  status: "open",
  answer: null,
  answered_by: null,
  created_at: `2026-12-01T10:00:${String(second).padStart(2, "0")}.000Z`,
  answered_at: null,
  expires_at: null,
  record: { text: id },
});

const [a, b, c] = [prompt("a", 1), prompt("b", 2), prompt("c", 3)];
const ids = (cards: { prompt: Prompt }[]) => cards.map((x) => x.prompt.id);

describe("visibleCards", () => {
  it("hides cards being sent or sent, and keeps closed and refused ones in list order", () => {
    const local = new Map<string, LocalCard>([
      ["a", { prompt: a, state: { kind: "closed", attempted: null } }],
      ["b", { prompt: b, state: { kind: "sending" } }],
    ]);
    // a left the open list; b is still in it while its answer travels
    expect(ids(visibleCards([b, c], local))).toEqual(["a", "c"]);
    const refused = new Map<string, LocalCard>([["b", { prompt: b, state: { kind: "refused", attempted: "positive", closed: null } }]]);
    expect(ids(visibleCards([a, c], refused))).toEqual(["a", "b", "c"]);
  });
});

describe("reconcile", () => {
  it("keeps the card under the cursor, closed, when it leaves the open list", () => {
    const next = reconcile(new Map(), new Set(["b", "c"]), a);
    expect(next?.get("a")?.state).toEqual({ kind: "closed", attempted: null });
    // so the card that would slide into its place is not the one on screen at its position
    expect(ids(visibleCards([b, c], next!))).toEqual(["a", "b", "c"]);
  });

  it("lets other cards leave, drops sent ones the list no longer holds, and closes a failed one that left", () => {
    const local = new Map<string, LocalCard>([
      ["a", { prompt: a, state: { kind: "sent" } }],
      ["b", { prompt: b, state: { kind: "failed", message: "Not saved: unreachable" } }],
    ]);
    const next = reconcile(local, new Set(["c"]), c)!;
    expect(next.has("a")).toBe(false);
    expect(next.get("b")?.state).toEqual({ kind: "closed", attempted: null });
    expect(reconcile(new Map(), new Set(["c"]), c)).toBeNull();
  });

  it("does not close a card being sent from this tab", () => {
    const local = new Map<string, LocalCard>([["a", { prompt: a, state: { kind: "sending" } }]]);
    expect(reconcile(local, new Set(["b"]), a)).toBeNull();
  });
});

describe("neighbour", () => {
  const cards = [a, b, c].map((p) => ({ prompt: p, state: null }));
  it("is the next card, else the one before, never the card itself", () => {
    expect(neighbour(cards, "a")?.prompt.id).toBe("b");
    expect(neighbour(cards, "c")?.prompt.id).toBe("b");
    expect(neighbour(cards, "b", -1)?.prompt.id).toBe("a");
    expect(neighbour([cards[0]!], "a")).toBeNull();
  });
});

describe("a refusal's details", () => {
  it("read back who answered, when and what", () => {
    const closed = closedFromDetails([
      { path: "answer", message: "prompt was already answered", status: "answered", answered_by: "ana", answered_at: "2026-12-01T10:00:05.000Z", answer: "negative" },
    ]);
    expect(closed).toEqual({ status: "answered", answeredBy: "ana", answeredAt: "2026-12-01T10:00:05.000Z", answer: "negative" });
    expect(formatAnswer(a.input, closed!.answer)).toBe("Negative");
    expect(closedFromDetails([{ message: "batch is completed" }])).toBeNull();
  });
});
