// What every system's child reports, and what the orchestrator records.
import type { ResourceUse } from "./child";

export interface SystemResult extends ResourceUse {
  jobs: number;
  seconds: number;
  perSecond: number;
  notes?: string;
  extra?: Record<string, unknown>;
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
