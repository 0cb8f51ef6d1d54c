"use client";
// The /compare page: which two batches and which field (kept in the URL, so Back and a shared link
// keep them), the summary on top, then the records, filtered by verdict or by a cell of the matrix.
import { Loading, QueryError } from "@/components/ui/query-state";
import { useCompare } from "@/lib/client/hooks";
import { useUrlParams } from "@/lib/client/use-url-params";
import { ComparePicker } from "./compare-picker";
import { CompareSummaryView } from "./compare-summary";
import { ComparedRecords } from "./compared-records";

export interface CompareFilter {
  verdict: string;
  aValue: string;
  bValue: string;
}

export function CompareView() {
  const [params, setParams] = useUrlParams();
  const a = params.get("a") ?? "";
  const b = params.get("b") ?? "";
  const field = params.get("field") || "result";
  const filter: CompareFilter = { verdict: params.get("verdict") ?? "", aValue: params.get("a_value") ?? "", bValue: params.get("b_value") ?? "" };
  const input = a && b ? { a, b, field } : null;
  const summary = useCompare(input);

  return (
    <div className="compare">
      <ComparePicker a={a} b={b} field={field} onChange={(v) => setParams({ ...v, verdict: "", a_value: "", b_value: "" })} />
      {!input ? (
        <section className="empty-state" role="status">
          <h2>Pick two batches</h2>
          <p>Choose a batch for A and one for B, and the result field to compare (for example result.label).</p>
        </section>
      ) : summary.isLoading ? (
        <Loading label="Comparing…" />
      ) : summary.isError ? (
        <QueryError error={summary.error} onRetry={() => void summary.refetch()} what="the comparison" />
      ) : summary.data ? (
        <>
          <CompareSummaryView
            summary={summary.data}
            filter={filter}
            onFilter={(f) => setParams({ verdict: f.verdict, a_value: f.aValue, b_value: f.bValue })}
          />
          <ComparedRecords input={input} filter={filter} onClear={() => setParams({ verdict: "", a_value: "", b_value: "" })} />
        </>
      ) : null}
    </div>
  );
}
