// What the worker's heartbeat sends for these held jobs (lib/worker/heartbeat.ts): every job id.
import type { ClaimedJob } from "@/lib/engine/claim";

export function heartbeatArgs(held: readonly ClaimedJob[]): [number[]] {
  return [held.map((j) => j.id)];
}
