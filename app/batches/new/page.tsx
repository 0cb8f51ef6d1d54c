import { NewBatchForm } from "@/components/batches/new-batch/new-batch-form";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "New batch" };

export default async function NewBatchPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const from = one(sp.from);
  return (
    <>
      {from ? (
        <PageHeader title="Run again" description="The batch's settings, ready to change: what you change is marked, and the new batch keeps a link to it." />
      ) : (
        <PageHeader title="New batch" description="Run one flow over every record of a dataset or of records you paste." />
      )}
      <NewBatchForm initialFlow={one(sp.flow)} initialDataset={one(sp.dataset)} from={from} />
    </>
  );
}
