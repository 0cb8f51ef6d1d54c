import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Batches" };

export default function BatchesPage() {
  return (
    <>
      <PageHeader title="Batches" />
      <EmptyState title="No batches yet">
        <p>Launch a batch to run a flow over every record of a dataset.</p>
      </EmptyState>
    </>
  );
}
