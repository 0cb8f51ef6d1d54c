import { Inbox } from "@/components/prompts/inbox";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Inbox" };

export default function InboxPage() {
  return (
    <>
      <PageHeader title="Inbox" description="Questions from interactive batches, oldest first." />
      <Inbox />
    </>
  );
}
