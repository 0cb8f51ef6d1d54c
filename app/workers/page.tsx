import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Workers" };

export default function WorkersPage() {
  return (
    <>
      <PageHeader title="Workers" />
      <EmptyState title="No live workers">
        <p>Workers register here when they start.</p>
      </EmptyState>
    </>
  );
}
