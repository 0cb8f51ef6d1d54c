import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Inbox" };

export default function InboxPage() {
  return (
    <>
      <PageHeader title="Inbox" />
      <EmptyState title="No open prompts">
        <p>Questions asked by interactive batches appear here.</p>
      </EmptyState>
    </>
  );
}
