// What every system's child reports, and what the orchestrator records.
import type { ResourceUse } from "./child";

export interface SystemResult extends ResourceUse {
  jobs: number;
  seconds: number;
  perSecond: number;
  notes?: string;
  extra?: Record<string, unknown>;
}

/** The row of a run that failed, its error logged as "<system> (<setting>): FAILED: <message>". */
export function failedRow(
  log: (line: string) => void,
  row: { section: string; system: string; setting: string; unit: string },
  err: unknown,
): Row {
  const message = err instanceof Error ? err.message : String(err);
  log(`${row.system} (${row.setting}): FAILED: ${message}`);
  return { ...row, jobs: null, seconds: null, perSecond: null, error: message };
}

export interface Row {
  section: string;
  system: string;
  setting: string;
  jobs: number | null;
  seconds: number | null;
  perSecond: number | null;
  unit: string;
  rssPeakMb?: number | null;
  cpuSeconds?: number | null;
  notes?: string;
  error?: string;
}
