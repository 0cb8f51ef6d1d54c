import { BatchDetail } from "@/components/batches/batch-detail";
import { getBatch } from "@/lib/engine";
import { notFoundIfMissing } from "@/lib/page-lookup";

export const metadata = { title: "Batch" };

export default async function BatchPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await notFoundIfMissing(() => getBatch(id));
  return <BatchDetail id={id} />;
}
