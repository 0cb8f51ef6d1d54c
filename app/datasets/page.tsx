import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Datasets" };

export default function DatasetsPage() {
  return (
    <>
      <PageHeader title="Datasets" />
      <EmptyState title="No datasets yet">
        <p>Upload CSV, JSONL or JSON records to run batches over them.</p>
      </EmptyState>
    </>
  );
}
