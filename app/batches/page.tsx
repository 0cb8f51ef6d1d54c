import { BatchesTable } from "@/components/batches/batches-table";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Batches" };

export default function BatchesPage() {
  return (
    <>
      <PageHeader title="Batches" description="Every run of a flow over a set of records, newest first." />
      <BatchesTable />
    </>
  );
}
