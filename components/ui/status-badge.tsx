import { formatStatus } from "@/lib/client/format";

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{formatStatus(status)}</span>;
}
