import { Suspense } from "react";
import { Inbox } from "@/components/prompts/inbox";
import { PageHeader } from "@/components/ui/page-header";
import { Loading } from "@/components/ui/query-state";

export const metadata = { title: "Inbox" };

export default function InboxPage() {
  return (
    <>
      <PageHeader title="Inbox" description="Questions from interactive batches, oldest first." />
      <Suspense fallback={<Loading label="Loading prompts…" />}>
        <Inbox />
      </Suspense>
    </>
  );
}
