import { DatasetDetail } from "@/components/datasets/dataset-detail";
import { getDataset } from "@/lib/datasets";
import { notFoundIfMissing } from "@/lib/page-lookup";

export const metadata = { title: "Dataset" };

export default async function DatasetPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await notFoundIfMissing(() => getDataset(id));
  return <DatasetDetail id={id} />;
}
