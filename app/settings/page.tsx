import { ApiKeys } from "@/components/auth/api-keys";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Settings" };

export default function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" description="API keys for the CLI, scripts and sign-in. A key is shown once, when it is created; only its hash is stored." />
      <ApiKeys />
    </>
  );
}
