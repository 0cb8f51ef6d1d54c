// A batch's results in record order, as the results export streams them: for asserting on them whole.
import { streamResults } from "@/lib/engine";
import type { ResultRow } from "@/lib/engine/types";

export async function allResults(batchId: string): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for await (const r of streamResults(batchId)) rows.push(r);
  return rows;
}
