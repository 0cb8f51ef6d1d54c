"use client";

import dynamic from "next/dynamic";
import { useEffect, useState } from "react";
import { Loading, QueryError } from "@/components/ui/query-state";
import { formatAgo, formatCount, formatRate, formatTime } from "@/lib/client/format";
import { useStats, useWorkers } from "@/lib/client/hooks";

const ThroughputChart = dynamic(() => import("./throughput-chart").then((m) => m.ThroughputChart), {
  ssr: false,
  loading: () => <p className="muted chart-empty">Loading chart…</p>,
});

/** Re-renders every few seconds so heartbeat ages stay true between data updates. */
function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function WorkersView() {
  // heartbeats and the stats series are not pushed by the event stream: refresh them on a slow timer
  const workers = useWorkers(true);
  const stats = useStats(true);
  const now = useNow(5_000);
  const s = stats.data;
  return (
    <>
      <div className="stat-row">
        <Stat label="Live workers" value={s ? formatCount(s.workers.live) : "—"} />
        <Stat label="Active batches" value={s ? formatCount(s.batches.active) : "—"} />
        <Stat label="Queue depth" value={s ? formatCount(s.queue_depth) : "—"} />
        <Stat label="Running jobs" value={s ? formatCount(s.jobs.running) : "—"} />
        <Stat label="Throughput, last minute" value={s ? formatRate(s.throughput.last_1m) : "—"} />
        <Stat label="Throughput, last hour (mean)" value={s ? formatRate(s.throughput.last_60m) : "—"} />
      </div>
      <section className="card" aria-label="Global throughput">
        <h2>Jobs finished per minute, last hour</h2>
        {stats.isError ? (
          <QueryError error={stats.error} onRetry={() => void stats.refetch()} what="stats" />
        ) : s ? (
          <ThroughputChart series={s.series} />
        ) : (
          <Loading />
        )}
      </section>
      <h2 className="section-title">Workers</h2>
      {workers.isLoading ? (
        <Loading label="Loading workers…" />
      ) : workers.isError ? (
        <QueryError error={workers.error} onRetry={() => void workers.refetch()} what="workers" />
      ) : !workers.data?.items.length ? (
        <section className="empty-state" role="status">
          <h2>No live workers</h2>
          <p>
            Workers register here when they start: the server runs one in-process, and <code>batchboard worker</code> starts more.
          </p>
        </section>
      ) : (
        <div className="table-wrap">
          <table aria-label="Workers">
            <thead>
              <tr>
                <th>Worker</th>
                <th>State</th>
                <th>Host / pid</th>
                <th>Mode</th>
                <th>Last heartbeat</th>
                <th className="num">Running</th>
                <th className="num">Concurrency</th>
                <th className="num">Processed</th>
                <th className="num">Failed</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {workers.data.items.map((w) => (
                <tr key={w.id}>
                  <td className="mono">{w.id}</td>
                  <td>
                    <span className={`badge ${w.alive ? "status-succeeded" : "status-failed"}`}>{w.alive ? "alive" : "gone"}</span>
                  </td>
                  <td className="mono small">
                    {w.host} / {w.pid}
                  </td>
                  <td>{w.mode}</td>
                  <td title={formatTime(w.heartbeat_at)}>{formatAgo(w.heartbeat_at, now)}</td>
                  <td className="num">{formatCount(w.running)}</td>
                  <td className="num">{formatCount(w.concurrency)}</td>
                  <td className="num">{formatCount(w.processed)}</td>
                  <td className="num">{formatCount(w.failed)}</td>
                  <td>{formatTime(w.started_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="card stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  );
}
