import { BatchDetail } from "@/components/batches/batch-detail";

export const metadata = { title: "Batch" };

export default async function BatchPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <BatchDetail id={id} />;
}
