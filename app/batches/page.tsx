import { Suspense } from "react";
import { BatchesTable } from "@/components/batches/batches-table";
import { PageHeader } from "@/components/ui/page-header";
import { Loading } from "@/components/ui/query-state";

export const metadata = { title: "Batches" };

export default function BatchesPage() {
  return (
    <>
      <PageHeader title="Batches" description="Every run of a flow over a set of records. Click a column heading to sort." />
      <Suspense fallback={<Loading label="Loading batches…" />}>
        <BatchesTable />
      </Suspense>
    </>
  );
}
