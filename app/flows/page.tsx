import { FlowsList } from "@/components/flows/flows-list";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Flows" };

export default function FlowsPage() {
  return (
    <>
      <PageHeader title="Flows" description="What a batch can run over each record, and the parameters each takes." />
      <FlowsList />
    </>
  );
}
