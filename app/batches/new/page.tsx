import { NewBatchForm } from "@/components/batches/new-batch/new-batch-form";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "New batch" };

export default async function NewBatchPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return (
    <>
      <PageHeader title="New batch" description="Run one flow over every record of a dataset or of records you paste." />
      <NewBatchForm initialFlow={one(sp.flow)} initialDataset={one(sp.dataset)} />
    </>
  );
}
