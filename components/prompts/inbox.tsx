"use client";
// Every open prompt, oldest first, each with its record. Keyboard: J/K move, 1-9 pick an option,
// Enter submits (Ctrl+Enter inside a multi-line field), Escape leaves a field.
//
// Every key press and click acts on the card it was meant for: the one under the cursor when it
// started (by prompt id, never by position). A card that leaves the open list while under the cursor
// stays on screen, closed, saying what became of it; an answer is sent at once and the next card
// comes up without waiting for the server (a refusal brings the card back with the reason).
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { JsonView } from "@/components/ui/json-view";
import { LoadMore, Loading, QueryError } from "@/components/ui/query-state";
import { ApiError } from "@/lib/client/api";
import { formatAgo, formatTime, formatUntil } from "@/lib/client/format";
import { useAnswerPrompt, useOpenPrompts, usePrompt } from "@/lib/client/hooks";
import { useGlobalStreamFailed } from "@/lib/client/sse";
import type { Prompt } from "@/lib/client/types";
import {
  checkAnswer,
  choicesOf,
  closedFromDetails,
  formatAnswer,
  initialDraft,
  neighbour,
  reconcile,
  takesAnswers,
  visibleCards,
  type Card,
  type Closed,
  type LocalCard,
} from "./answer";

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable;
}

export function Inbox() {
  const streamFailed = useGlobalStreamFailed();
  // ?batch=<id> (the batch page links here so) shows one batch's questions
  const batchId = useSearchParams().get("batch") ?? "";
  const prompts = useOpenPrompts(streamFailed, batchId);
  const answer = useAnswerPrompt();
  const open = useMemo(() => prompts.data?.pages.flatMap((p) => p.items) ?? [], [prompts.data]);
  const total = prompts.data?.pages[0]?.total ?? open.length;

  // state for rendering, mirrored in refs so a handler always reads what the person last did
  const [local, setLocalState] = useState<ReadonlyMap<string, LocalCard>>(new Map());
  const [active, setActiveState] = useState<Prompt | null>(null);
  const [drafts, setDraftsState] = useState<Readonly<Record<string, string>>>({});
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const localRef = useRef(local);
  const activeRef = useRef(active);
  const draftsRef = useRef(drafts);
  const cardEls = useRef(new Map<string, HTMLElement>());

  const setLocal = (update: (m: Map<string, LocalCard>) => void) => {
    const next = new Map(localRef.current);
    update(next);
    localRef.current = next;
    setLocalState(next);
  };
  const setActive = (p: Prompt | null) => {
    activeRef.current = p;
    setActiveState(p);
  };
  const setDraft = (id: string, v: string) => {
    draftsRef.current = { ...draftsRef.current, [id]: v };
    setDraftsState(draftsRef.current);
  };

  const cards = useMemo(() => visibleCards(open, local), [open, local]);
  const cardsRef = useRef(cards);
  useLayoutEffect(() => {
    cardsRef.current = cards;
  });

  // before paint: the card under the cursor that left the open list is kept, closed; sent ones go
  useLayoutEffect(() => {
    const next = reconcile(localRef.current, new Set(open.map((p) => p.id)), activeRef.current);
    if (next) {
      localRef.current = next;
      setLocalState(next);
    }
  }, [open]);

  // the first card is under the cursor until the person picks another
  useEffect(() => {
    if (!activeRef.current && cards[0]) setActive(cards[0].prompt);
  }, [cards]);

  const activate = (p: Prompt) => {
    const prev = activeRef.current;
    if (prev?.id === p.id) return;
    setActive(p);
    // a closed card the person moved away from has said what it had to
    if (prev && localRef.current.get(prev.id)?.state.kind === "closed") setLocal((m) => m.delete(prev.id));
  };

  const focusCard = (p: Prompt | undefined | null) => {
    if (!p) return;
    activate(p);
    const el = cardEls.current.get(p.id);
    el?.scrollIntoView({ block: "nearest" });
    el?.focus({ preventScroll: true });
  };

  /** The card under the cursor goes away: the next one (or the one before) comes up, if any. */
  const moveOn = (id: string) => {
    const next = neighbour(cardsRef.current, id);
    if (next) focusCard(next.prompt);
    else setActive(null);
  };

  const dismiss = (id: string) => {
    if (activeRef.current?.id === id) moveOn(id);
    setLocal((m) => m.delete(id));
  };

  /** The person's attempt to answer a card that no longer takes answers: say so on it, send nothing. */
  const refuseLocally = (card: Card, attempted: string) => {
    if (card.state?.kind === "closed") setLocal((m) => m.set(card.prompt.id, { prompt: card.prompt, state: { kind: "closed", attempted } }));
  };

  const submit = (p: Prompt) => {
    const card = cardsRef.current.find((c) => c.prompt.id === p.id);
    if (!card) return;
    const draft = draftsRef.current[p.id] ?? initialDraft(p);
    if (!takesAnswers(card)) return refuseLocally(card, formatAnswer(p.input, draft));
    const check = checkAnswer(p.input, draft);
    if (!check.ok) {
      setErrors((e) => ({ ...e, [p.id]: check.message }));
      return;
    }
    setErrors((e) => ({ ...e, [p.id]: "" }));
    if (activeRef.current?.id === p.id) moveOn(p.id);
    setLocal((m) => m.set(p.id, { prompt: p, state: { kind: "sending" } }));
    const attempted = formatAnswer(p.input, check.value);
    answer.mutateAsync({ id: p.id, answer: check.value }).then(
      () => setLocal((m) => m.set(p.id, { prompt: p, state: { kind: "sent" } })),
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 409) {
          setLocal((m) => m.set(p.id, { prompt: p, state: { kind: "refused", attempted, closed: closedFromDetails(err.details) } }));
          return;
        }
        const message = err instanceof ApiError ? [err.message, ...err.details.map((d) => d.message)].join(" — ") : String(err);
        setLocal((m) => m.set(p.id, { prompt: p, state: { kind: "failed", message: `Not saved: ${message}` } }));
      },
    );
  };

  // the window listener is added once and always calls the latest handler
  const onKeyRef = useRef<(e: KeyboardEvent) => void>(() => {});
  useEffect(() => {
    onKeyRef.current = (e: KeyboardEvent) => {
      if (e.metaKey || e.altKey || (e.ctrlKey && e.key !== "Enter")) return;
      if (isTyping(e.target)) {
        if (e.key === "Escape") (e.target as HTMLElement).blur();
        return;
      }
      const all = cardsRef.current;
      const id = activeRef.current?.id;
      const card = all.find((c) => c.prompt.id === id);
      const key = e.key.toLowerCase();
      if (key === "j" || key === "k") {
        e.preventDefault();
        focusCard(card ? all[all.indexOf(card) + (key === "j" ? 1 : -1)]?.prompt : all[0]?.prompt);
        return;
      }
      // digits and Enter belong to the card under the cursor, and to no other
      if (!card) return;
      if (/^[1-9]$/.test(key)) {
        const choice = choicesOf(card.prompt.input)[Number(key) - 1];
        if (!choice) return;
        e.preventDefault();
        if (takesAnswers(card)) setDraft(card.prompt.id, choice.value);
        else refuseLocally(card, choice.label);
      } else if (key === "enter") {
        // Enter on a link or an action button activates it; on an option or elsewhere it submits
        const el = e.target as HTMLElement | null;
        if (el?.tagName === "A" || (el?.tagName === "BUTTON" && el.getAttribute("role") !== "radio")) return;
        e.preventDefault();
        submit(card.prompt);
      }
    };
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => onKeyRef.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const filter = batchId ? (
    <p className="inbox-filter" role="status">
      Questions of batch <Link href={`/batches/${encodeURIComponent(batchId)}`} className="mono">{batchId}</Link> only ·{" "}
<Link href="/inbox">show every batch</Link>
    </p>
  ) : null;

  if (prompts.isLoading) return <Loading label="Loading prompts…" />;
  if (prompts.isError && !cards.length) return <QueryError error={prompts.error} onRetry={() => void prompts.refetch()} what="prompts" />;
  if (!cards.length) {
    return (
      <>
        {filter}
        <section className="empty-state" role="status">
          <h2>No open prompts</h2>
          <p>Questions asked by interactive batches appear here, oldest first. You are all caught up.</p>
        </section>
      </>
    );
  }

  return (
    <>
      {filter}
      <p className="kbd-help muted">
        <kbd>J</kbd>/<kbd>K</kbd> move · <kbd>1</kbd>–<kbd>9</kbd> pick an option · <kbd>Enter</kbd> submit · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> submit
        from a multi-line field
      </p>
      <ol className="prompt-list" aria-label="Open prompts">
        {cards.map((c, i) => (
          <li key={c.prompt.id}>
            <PromptCard
              card={c}
              index={i}
              active={c.prompt.id === active?.id}
              draft={drafts[c.prompt.id] ?? initialDraft(c.prompt)}
              error={c.state?.kind === "failed" ? c.state.message : errors[c.prompt.id]}
              cardRef={(el) => {
                if (el) cardEls.current.set(c.prompt.id, el);
                else cardEls.current.delete(c.prompt.id);
              }}
              onActivate={() => activate(c.prompt)}
              onDraft={(v) => setDraft(c.prompt.id, v)}
              onSubmit={() => submit(c.prompt)}
              onDismiss={() => dismiss(c.prompt.id)}
            />
          </li>
        ))}
      </ol>
      <LoadMore
        hasNextPage={!!prompts.hasNextPage}
        isFetchingNextPage={prompts.isFetchingNextPage}
        fetchNextPage={() => void prompts.fetchNextPage()}
        shown={open.length}
        total={total}
        noun={["open prompt", "open prompts"]}
      />
    </>
  );
}

function PromptCard({
  card,
  index,
  active,
  draft,
  error,
  cardRef,
  onActivate,
  onDraft,
  onSubmit,
  onDismiss,
}: {
  card: Card;
  index: number;
  active: boolean;
  draft: string;
  error?: string;
  cardRef: (el: HTMLElement | null) => void;
  onActivate: () => void;
  onDraft: (v: string) => void;
  onSubmit: () => void;
  onDismiss: () => void;
}) {
  const p = card.prompt;
  const qid = `q-${p.id}`;
  const closed = !takesAnswers(card);
  return (
    <article
      ref={cardRef}
      tabIndex={-1}
      className={`prompt-card card${active ? " is-active" : ""}${closed ? " is-closed" : ""}`}
      aria-current={active ? "true" : undefined}
      aria-labelledby={qid}
      onFocusCapture={onActivate}
      onMouseDown={onActivate}
    >
      <div className="prompt-record">
        <div className="prompt-meta muted small">
          <Link href={`/batches/${p.batch_id}`}>{p.batch_id}</Link> · record <span className="mono">{p.record_id}</span> · asked{" "}
          <time dateTime={p.created_at} title={formatTime(p.created_at)}>
            {formatAgo(p.created_at)}
          </time>
        </div>
        {p.record !== undefined ? <JsonView value={p.record} label={`Record ${p.record_id}`} /> : <p className="muted">No record data.</p>}
      </div>
      {closed ? (
        <ClosedAnswer card={card} qid={qid} index={index} onDismiss={onDismiss} />
      ) : (
        <AnswerForm prompt={p} qid={qid} index={index} active={active} draft={draft} error={error} onDraft={onDraft} onSubmit={onSubmit} />
      )}
    </article>
  );
}

function AnswerForm({
  prompt: p,
  qid,
  index,
  active,
  draft,
  error,
  onDraft,
  onSubmit,
}: {
  prompt: Prompt;
  qid: string;
  index: number;
  active: boolean;
  draft: string;
  error?: string;
  onDraft: (v: string) => void;
  onSubmit: () => void;
}) {
  const choices = choicesOf(p.input);
  const errId = `err-${p.id}`;
  const multiline = p.input.type === "json" || (p.input.type === "text" && p.input.multiline);
  return (
    <form
      className="prompt-answer"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      <h2 id={qid} className="prompt-question">
        <span className="muted">{index + 1}.</span> {p.question}
      </h2>
      {choices.length ? (
        <div role="radiogroup" aria-labelledby={qid} className="choices">
          {choices.map((c, i) => (
            <button
              key={c.value}
              type="button"
              role="radio"
              aria-checked={draft === c.value}
              className={`choice${draft === c.value ? " is-picked" : ""}`}
              onClick={() => onDraft(c.value)}
            >
              {i < 9 ? <kbd aria-hidden>{i + 1}</kbd> : null} {c.label}
            </button>
          ))}
        </div>
      ) : null}
      {p.input.type === "choice" && p.input.allow_free_text ? (
        <input
          aria-label="Other answer"
          placeholder="…or type another answer"
          value={choices.some((c) => c.value === draft) ? "" : draft}
          onChange={(e) => onDraft(e.target.value)}
        />
      ) : null}
      {p.input.type === "number" ? (
        <input
          type="number"
          aria-label="Answer"
          aria-describedby={error ? errId : undefined}
          min={p.input.min ?? undefined}
          max={p.input.max ?? undefined}
          step="any"
          value={draft}
          onChange={(e) => onDraft(e.target.value)}
        />
      ) : null}
      {p.input.type === "text" && !multiline ? (
        <input
          aria-label="Answer"
          aria-describedby={error ? errId : undefined}
          maxLength={p.input.max_length ?? undefined}
          value={draft}
          onChange={(e) => onDraft(e.target.value)}
        />
      ) : null}
      {multiline ? (
        <textarea
          aria-label={p.input.type === "json" ? "Answer (JSON)" : "Answer"}
          aria-describedby={error ? errId : undefined}
          rows={p.input.type === "json" ? 6 : 3}
          spellCheck={p.input.type !== "json"}
          value={draft}
          onChange={(e) => onDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              onSubmit();
            }
          }}
        />
      ) : null}
      {error ? (
        <p className="field-error" id={errId} role="alert">
          {error}
        </p>
      ) : null}
      <div className="form-row">
        <button type="submit" className={active ? "btn btn-primary" : "btn"}>
          Submit answer
        </button>
        {p.expires_at ? <span className="muted small">expires {formatUntil(p.expires_at)}</span> : null}
      </div>
    </form>
  );
}

/** What became of a prompt that no longer takes answers, in words. */
function describeClosed(p: Prompt, c: Closed | null): string {
  if (!c) return "This prompt no longer takes answers.";
  if (c.status === "answered") {
    const who = c.answeredBy ? ` by ${c.answeredBy}` : "";
    const when = c.answeredAt ? ` at ${formatTime(c.answeredAt)}` : "";
    return `answered${who}${when}: “${formatAnswer(p.input, c.answer)}”`;
  }
  if (c.status === "expired") return "expired before anyone answered it";
  if (c.status === "cancelled") return "cancelled with its job or batch";
  return "still open";
}

function ClosedAnswer({ card, qid, index, onDismiss }: { card: Card; qid: string; index: number; onDismiss: () => void }) {
  const p = card.prompt;
  const state = card.state;
  // a refusal carries what the server kept; a card that left under the cursor asks for it
  const fetched = usePrompt(state?.kind === "closed" ? p.id : null);
  const closed: Closed | null =
    state?.kind === "refused"
      ? state.closed
      : fetched.data
        ? { status: fetched.data.status, answeredBy: fetched.data.answered_by, answeredAt: fetched.data.answered_at, answer: fetched.data.answer }
        : null;
  const what = describeClosed(p, closed);
  return (
    <div className="prompt-answer">
      <h2 id={qid} className="prompt-question">
        <span className="muted">{index + 1}.</span> {p.question}
      </h2>
      {state?.kind === "refused" ? (
        <p className="alert alert-error" role="alert">
          <strong>Already {what}.</strong> Your answer “{state.attempted}” was not saved.
        </p>
      ) : (
        <>
          <p className="alert" role="status">
            {closed || fetched.isError ? `This prompt was ${what}.` : "This prompt is no longer open…"} It takes no more answers.
          </p>
          {state?.kind === "closed" && state.attempted !== null ? (
            <p className="field-error" role="alert">
              Not sent: “{state.attempted}” was meant for this record, which no longer takes answers.
            </p>
          ) : null}
        </>
      )}
      <div className="form-row">
        <button type="button" className="btn" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}
