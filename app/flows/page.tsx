import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Flows" };

export default function FlowsPage() {
  return (
    <>
      <PageHeader title="Flows" />
      <EmptyState title="No flows registered">
        <p>Flows are defined in lib/flows and registered in one place.</p>
      </EmptyState>
    </>
  );
}
