import { PageHeader } from "@/components/ui/page-header";
import { WorkersView } from "@/components/workers/workers-view";

export const metadata = { title: "Workers" };

export default function WorkersPage() {
  return (
    <>
      <PageHeader title="Workers" description="Processes claiming and running jobs, and the work they get through." />
      <WorkersView />
    </>
  );
}
