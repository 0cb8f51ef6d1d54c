// Where a traced scroll's frame time goes (a trace written by bench/pages/scroll-probe.ts --trace):
// the renderer main thread's self time by kind (script, style, layout, paint, GC, HTML parse, other
// task work, idle), and the raster and compositor threads' busy time, over the whole scroll and
// inside the longest frames. A frame is the time from one animation-frame callback group (the
// bench's rAF tick and the table's own) to the next, as the bench's frame deltas are.
//
//   node --import tsx bench/pages/trace-breakdown.ts /tmp/scroll-.next.json [more traces]
import { readFileSync } from "node:fs";

interface Ev {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: Record<string, unknown> };
}

const KINDS = ["script", "style", "layout", "paint", "gc", "parse", "other", "idle"] as const;
type Kind = (typeof KINDS)[number];

function kindOf(name: string): Kind | null {
  if (/GC|Scavenge|MarkCompact|Sweep/i.test(name) && !/^v8\.(run|compile)/.test(name)) return "gc";
  if (name === "UpdateLayoutTree" || name === "RecalculateStyles" || name === "ParseAuthorStyleSheet") return "style";
  if (name === "Layout" || name === "UpdateLayoutTree.Layout" || name === "IntersectionObserverController::computeIntersections") return "layout";
  if (["PrePaint", "Paint", "PaintImage", "Layerize", "UpdateLayer", "Commit", "CompositeLayers", "UpdateLayerTree", "PaintArtifactCompositor::Update"].includes(name)) return "paint";
  if (name === "ParseHTML") return "parse";
  if (
    ["FunctionCall", "EvaluateScript", "TimerFire", "FireAnimationFrame", "EventDispatch", "RunMicrotasks", "v8.run", "v8.compile", "v8.callFunction", "V8.Execute", "XHRReadyStateChange", "FireIdleCallback", "v8.evaluateModule", "HandlePostMessage"].includes(
      name,
    )
  )
    return "script";
  return null;
}

function analyse(file: string) {
  const raw = JSON.parse(readFileSync(file, "utf8")) as { traceEvents: Ev[] } | Ev[];
  const events = Array.isArray(raw) ? raw : raw.traceEvents;
  const threadName = new Map<string, string>();
  for (const e of events) if (e.ph === "M" && e.name === "thread_name") threadName.set(`${e.pid}:${e.tid}`, e.args?.name ?? "");
  const byThread = new Map<string, Ev[]>();
  for (const e of events) {
    if (e.ph !== "X" || e.dur === undefined) continue;
    const k = `${e.pid}:${e.tid}`;
    (byThread.get(k) ?? byThread.set(k, []).get(k)!).push(e);
  }
  const mains = [...byThread.entries()].filter(([k]) => threadName.get(k) === "CrRendererMain").sort((a, b) => b[1].length - a[1].length);
  if (!mains.length) throw new Error(`${file}: no CrRendererMain thread`);
  const [mainKey, main] = mains[0]!;
  const pid = mainKey.split(":")[0];
  main.sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);

  // self time of each event, attributed to the innermost event of a known kind (else "other")
  interface Slice {
    ts: number;
    end: number;
    kind: Kind;
  }
  const slices: Slice[] = [];
  const stack: { e: Ev; kind: Kind | null; end: number; cursor: number }[] = [];
  const inherited = () => {
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.kind) return stack[i]!.kind!;
    return "other" as Kind;
  };
  const close = (upTo: number) => {
    while (stack.length && stack[stack.length - 1]!.end <= upTo) {
      const top = stack.pop()!;
      if (top.end > top.cursor) slices.push({ ts: top.cursor, end: top.end, kind: top.kind ?? inherited() });
      if (stack.length) stack[stack.length - 1]!.cursor = top.end;
    }
  };
  for (const e of main) {
    close(e.ts);
    const parent = stack[stack.length - 1];
    if (parent && e.ts > parent.cursor) slices.push({ ts: parent.cursor, end: e.ts, kind: parent.kind ?? inherited() });
    if (parent) parent.cursor = Math.max(parent.cursor, e.ts);
    const end = parent ? Math.min(e.ts + e.dur!, parent.end) : e.ts + e.dur!;
    stack.push({ e, kind: kindOf(e.name), end, cursor: e.ts });
  }
  close(Infinity);
  slices.sort((a, b) => a.ts - b.ts);

  // frames: groups of FireAnimationFrame events (the callbacks of one frame run back to back)
  const rafs = main.filter((e) => e.name === "FireAnimationFrame");
  const starts: number[] = [];
  let lastEnd = -Infinity;
  for (const e of rafs) {
    if (e.ts - lastEnd > 1000) starts.push(e.ts);
    lastEnd = Math.max(lastEnd, e.ts + e.dur!);
  }
  // top-level busy spans of the threads whose name passes `which`, in the renderer's process when `own`
  const busy = (which: (n: string) => boolean, own: boolean, only?: (e: Ev) => boolean) =>
    [...byThread.entries()]
      .filter(([k]) => !own || k.startsWith(`${pid}:`))
      .filter(([k]) => which(threadName.get(k) ?? ""))
      .flatMap(([, evs]) => {
        const s = evs.filter((e) => !only || only(e)).sort((a, b) => a.ts - b.ts);
        const spans: [number, number][] = [];
        for (const e of s) {
          const last = spans[spans.length - 1];
          if (last && e.ts < last[1]) last[1] = Math.max(last[1], e.ts + e.dur!);
          else spans.push([e.ts, e.ts + e.dur!]);
        }
        return spans;
      });
  // raster runs as RasterTask on the renderer's worker threads (CompositorTileWorker, or the thread pool's in newer Chromium)
  const raster = busy((n) => n.startsWith("CompositorTileWorker") || n === "ThreadPoolForegroundWorker", true, (e) => e.name === "RasterTask");
  const compositor = busy((n) => n === "Compositor", true);
  const viz = busy((n) => n === "VizCompositorThread" || n === "CrGpuMain", false);
  const overlap = (spans: [number, number][], a: number, b: number) => spans.reduce((t, [s, e]) => t + Math.max(0, Math.min(b, e) - Math.max(a, s)), 0);

  const inWindow = (a: number, b: number) => {
    const by: Record<Kind, number> = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
    for (const s of slices) {
      if (s.end <= a) continue;
      if (s.ts >= b) break;
      by[s.kind] += Math.min(b, s.end) - Math.max(a, s.ts);
    }
    const total = b - a;
    by.idle = total - KINDS.filter((k) => k !== "idle").reduce((t, k) => t + by[k], 0);
    return { total, by, raster: overlap(raster, a, b), compositor: overlap(compositor, a, b), viz: overlap(viz, a, b) };
  };
  const ms = (us: number) => (us / 1000).toFixed(1);
  const fmt = (w: ReturnType<typeof inWindow>) =>
    `${ms(w.total)} ms: ${KINDS.map((k) => `${k} ${ms(w.by[k])}`).join(", ")} | raster threads ${ms(w.raster)}, compositor ${ms(w.compositor)}, viz/gpu ${ms(w.viz)}`;

  const frames = starts.slice(1).map((t, i) => ({ a: starts[i]!, b: t }));
  const whole = inWindow(starts[0]!, starts[starts.length - 1]!);
  console.log(`\n${file}: ${frames.length} frames`);
  console.log(`  whole scroll   ${fmt(whole)}`);
  const deltas = frames.map((f) => (f.b - f.a) / 1000).sort((x, y) => x - y);
  console.log(`  frame ms: median ${deltas[Math.floor(deltas.length / 2)]?.toFixed(1)}, p95 ${deltas[Math.floor(deltas.length * 0.95)]?.toFixed(1)}, max ${deltas[deltas.length - 1]?.toFixed(1)}; over 50: ${deltas.filter((d) => d > 50).length}, over 100: ${deltas.filter((d) => d > 100).length}`);
  const long = frames.filter((f) => f.b - f.a > 50_000);
  if (long.length) {
    const sum = long.map((f) => inWindow(f.a, f.b)).reduce((acc, w) => {
      acc.total += w.total;
      for (const k of KINDS) acc.by[k] += w.by[k];
      acc.raster += w.raster;
      acc.compositor += w.compositor;
      acc.viz += w.viz;
      return acc;
    });
    console.log(`  ${long.length} frames over 50 ms, summed: ${fmt(sum)}`);
  }
  const top = [...frames].sort((x, y) => y.b - y.a - (x.b - x.a)).slice(0, 8);
  for (const f of top) {
    const w = inWindow(f.a, f.b);
    const names = new Map<string, number>();
    for (const e of main) if (e.ts >= f.a && e.ts < f.b && e.dur! > 3000 && kindOf(e.name)) names.set(e.name, (names.get(e.name) ?? 0) + e.dur!);
    console.log(`  frame at +${ms(f.a - starts[0]!)} ${fmt(w)}\n      events > 3 ms: ${[...names].map(([n, d]) => `${n} ${ms(d)}`).join(", ")}`);
  }
}

for (const f of process.argv.slice(2)) analyse(f);
