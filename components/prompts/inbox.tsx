"use client";
// Every open prompt, oldest first, each with its record. Keyboard: J/K move, 1-9 pick an option,
// Enter submits (Ctrl+Enter inside a multi-line field), Escape leaves a field.
import Link from "next/link";
import { useEffect, useMemo, useRef, useState } from "react";
import { JsonView } from "@/components/ui/json-view";
import { LoadMore, Loading, QueryError } from "@/components/ui/query-state";
import { ApiError } from "@/lib/client/api";
import { formatAgo, formatTime, formatUntil } from "@/lib/client/format";
import { useAnswerPrompt, useOpenPrompts } from "@/lib/client/hooks";
import { useGlobalStreamFailed } from "@/lib/client/sse";
import type { Prompt } from "@/lib/client/types";
import { checkAnswer, choicesOf, initialDraft } from "./answer";

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable;
}

export function Inbox() {
  const streamFailed = useGlobalStreamFailed();
  const prompts = useOpenPrompts(streamFailed);
  const answer = useAnswerPrompt();
  const items = useMemo(() => prompts.data?.pages.flatMap((p) => p.items) ?? [], [prompts.data]);
  const total = prompts.data?.pages[0]?.total ?? items.length;
  const [activeId, setActiveId] = useState<string | null>(null);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const cards = useRef(new Map<string, HTMLElement>());

  const activeIndex = Math.max(0, items.findIndex((p) => p.id === activeId));
  const active = items[activeIndex];

  const draftOf = (p: Prompt) => drafts[p.id] ?? initialDraft(p);

  const focusCard = (id: string | undefined) => {
    if (!id) return;
    setActiveId(id);
    const el = cards.current.get(id);
    el?.scrollIntoView({ block: "nearest" });
    el?.focus({ preventScroll: true });
  };

  const submit = (p: Prompt) => {
    const check = checkAnswer(p.input, draftOf(p));
    if (!check.ok) {
      setErrors((e) => ({ ...e, [p.id]: check.message }));
      return;
    }
    setErrors((e) => ({ ...e, [p.id]: "" }));
    const idx = items.findIndex((x) => x.id === p.id);
    const next = items[idx + 1] ?? items[idx - 1];
    answer.mutate(
      { id: p.id, answer: check.value },
      {
        onSuccess: () => {
          if (next) focusCard(next.id);
        },
        onError: (err) => {
          const msg =
            err instanceof ApiError
              ? err.status === 409
                ? "Already answered elsewhere."
                : [err.message, ...err.details.map((d) => d.message)].join(" — ")
              : String(err);
          setErrors((e) => ({ ...e, [p.id]: msg }));
        },
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
      if (!active) return;
      const key = e.key.toLowerCase();
      if (key === "j" || key === "k") {
        e.preventDefault();
        focusCard(items[Math.min(items.length - 1, Math.max(0, activeIndex + (key === "j" ? 1 : -1)))]?.id);
      } else if (/^[1-9]$/.test(key)) {
        const choice = choicesOf(active.input)[Number(key) - 1];
        if (choice) {
          e.preventDefault();
          setDrafts((d) => ({ ...d, [active.id]: choice.value }));
        }
      } else if (key === "enter") {
        // Enter on a link or an action button activates it; on an option or elsewhere it submits
        const el = e.target as HTMLElement | null;
        if (el?.tagName === "A" || (el?.tagName === "BUTTON" && el.getAttribute("role") !== "radio")) return;
        e.preventDefault();
        submit(active);
      }
    };
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => onKeyRef.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (prompts.isLoading) return <Loading label="Loading prompts…" />;
  if (prompts.isError && !items.length) return <QueryError error={prompts.error} onRetry={() => void prompts.refetch()} what="prompts" />;
  if (!items.length) {
    return (
      <section className="empty-state" role="status">
        <h2>No open prompts</h2>
        <p>Questions asked by interactive batches appear here, oldest first. You are all caught up.</p>
      </section>
    );
  }

  return (
    <>
      <p className="kbd-help muted">
        <kbd>J</kbd>/<kbd>K</kbd> move · <kbd>1</kbd>–<kbd>9</kbd> pick an option · <kbd>Enter</kbd> submit · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> submit
        from a multi-line field
      </p>
      <ol className="prompt-list" aria-label="Open prompts">
        {items.map((p, i) => (
          <li key={p.id}>
            <PromptCard
              prompt={p}
              index={i}
              active={p.id === active?.id}
              draft={draftOf(p)}
              error={errors[p.id]}
              busy={answer.isPending && answer.variables?.id === p.id}
              cardRef={(el) => {
                if (el) cards.current.set(p.id, el);
                else cards.current.delete(p.id);
              }}
              onActivate={() => setActiveId(p.id)}
              onDraft={(v) => setDrafts((d) => ({ ...d, [p.id]: v }))}
              onSubmit={() => submit(p)}
            />
          </li>
        ))}
      </ol>
      <LoadMore
        hasNextPage={!!prompts.hasNextPage}
        isFetchingNextPage={prompts.isFetchingNextPage}
        fetchNextPage={() => void prompts.fetchNextPage()}
        shown={items.length}
        total={total}
        noun="open prompts"
      />
    </>
  );
}

function PromptCard({
  prompt: p,
  index,
  active,
  draft,
  error,
  busy,
  cardRef,
  onActivate,
  onDraft,
  onSubmit,
}: {
  prompt: Prompt;
  index: number;
  active: boolean;
  draft: string;
  error?: string;
  busy: boolean;
  cardRef: (el: HTMLElement | null) => void;
  onActivate: () => void;
  onDraft: (v: string) => void;
  onSubmit: () => void;
}) {
  const choices = choicesOf(p.input);
  const qid = `q-${p.id}`;
  const errId = `err-${p.id}`;
  const multiline = p.input.type === "json" || (p.input.type === "text" && p.input.multiline);
  return (
    <article
      ref={cardRef}
      tabIndex={-1}
      className={`prompt-card card${active ? " is-active" : ""}`}
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
          <button type="submit" className={active ? "btn btn-primary" : "btn"} disabled={busy}>
            {busy ? "Sending…" : "Submit answer"}
          </button>
          {p.expires_at ? <span className="muted small">expires {formatUntil(p.expires_at)}</span> : null}
        </div>
      </form>
    </article>
  );
}
