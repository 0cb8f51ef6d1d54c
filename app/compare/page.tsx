import { Suspense } from "react";
import { CompareView } from "@/components/compare/compare-view";
import { PageHeader } from "@/components/ui/page-header";
import { Loading } from "@/components/ui/query-state";

export const metadata = { title: "Compare batches" };

export default function ComparePage() {
  return (
    <>
      <PageHeader title="Compare batches" description="Two runs side by side, record by record: what agrees, what changed, and what it cost." />
      <Suspense fallback={<Loading />}>
        <CompareView />
      </Suspense>
    </>
  );
}
