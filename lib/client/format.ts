// Display formatting shared by the dashboard. Pure functions, safe on server and client.

const nf = new Intl.NumberFormat("en-US");

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : nf.format(n);
}

/** A count with its noun in agreement: "1 job", "2 jobs", "1,000 jobs". */
export function countOf(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export function formatCost(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  if (n === 0) return "$0";
  if (Math.abs(n) < 0.01) return `$${n.toPrecision(2)}`;
  return `$${n.toFixed(n < 100 ? 2 : 0)}`;
}

/**
 * The one rate formatter: every rate the dashboard shows (batch list, batch page, Workers) is in jobs
 * per minute, so figures side by side compare at a glance. Takes jobs per second, as the API gives it.
 * "1,234 jobs/min", "4.5 jobs/min", "0.017 jobs/min", "0 jobs/min"; "—" when there is no rate.
 */
export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return "—";
  const perMinute = Math.max(0, perSecond * 60);
  let n: string;
  if (perMinute === 0) n = "0";
  else if (perMinute >= 10) n = formatCount(Math.round(perMinute));
  else if (perMinute >= 1) n = perMinute.toFixed(1);
  else n = String(Number(perMinute.toPrecision(2)));
  return `${n} jobs/min`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return timeFormat.format(d);
}
// one formatter for every call: Date#toLocaleString with options builds a new Intl.DateTimeFormat each
// time (about half a millisecond), which a scrolling table pays for every row coming into view
const timeFormat = new Intl.DateTimeFormat("en-GB", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });

export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return "—";
  const s = Math.round((now - t) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function formatStatus(s: string | null | undefined): string {
  return s ? s.replace(/_/g, " ") : "—";
}

export function formatUntil(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return "—";
  const s = (t - now) / 1000;
  return s <= 0 ? "now" : `in ${formatDuration(s)}`;
}

/** A batch's rate limit as GET /api/batches/{id} gives it (the fields these texts read). */
export interface RateLimitView {
  key: string | null;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  current_requests_per_minute: number | null;
  current_tokens_per_minute: number | null;
  paused_until: string | null;
  recent_requests_per_minute: number | null;
  recent_tokens_per_minute: number | null;
  shared_with: number | null;
  waiting: boolean | null;
}

/** "limited: 600 requests/min, 200,000 tokens/min shared with 2 other batches (key openai:gpt-4o-mini)" */
export function rateLimitText(r: RateLimitView): string {
  const rates = [
    r.requests_per_minute !== null ? `${formatCount(r.requests_per_minute)} requests/min` : null,
    r.tokens_per_minute !== null ? `${formatCount(r.tokens_per_minute)} tokens/min` : null,
  ].filter(Boolean);
  const others = r.shared_with ?? 0;
  const shared = r.key === null ? "" : others > 0 ? ` shared with ${others} other batch${others === 1 ? "" : "es"}` : " shared";
  return `limited: ${rates.join(", ")}${shared}${r.key === null ? "" : ` (key ${r.key})`}`;
}

/** The live part: "now 480 requests/min, 95,000 tokens/min; waiting on its limit" (empty without live figures). */
export function rateLimitNowText(r: RateLimitView): string {
  if (r.recent_requests_per_minute === null) return "";
  const parts = [`now ${formatCount(Math.round(r.recent_requests_per_minute))} requests/min`];
  if (r.tokens_per_minute !== null && r.recent_tokens_per_minute !== null) parts.push(`${formatCount(Math.round(r.recent_tokens_per_minute))} tokens/min`);
  const slowed =
    r.current_requests_per_minute !== null && r.requests_per_minute !== null && r.current_requests_per_minute < r.requests_per_minute
      ? `; slowed to ${formatCount(Math.round(r.current_requests_per_minute))} requests/min after a 429`
      : "";
  const waiting = r.paused_until ? `; paused by the provider until ${new Date(r.paused_until).toLocaleTimeString()}` : r.waiting ? "; waiting on its limit" : "";
  return `${parts.join(", ")}${slowed}${waiting}`;
}
