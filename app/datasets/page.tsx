import { DatasetUpload } from "@/components/datasets/dataset-upload";
import { DatasetsList } from "@/components/datasets/datasets-list";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Datasets" };

export default function DatasetsPage() {
  return (
    <>
      <PageHeader title="Datasets" description="Records to run flows over: upload your own, or use a demo set." />
      <DatasetUpload />
      <DatasetsList />
    </>
  );
}
