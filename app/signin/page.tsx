import { Suspense } from "react";
import { SignInForm } from "@/components/auth/sign-in-form";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Sign in" };

export default function SignInPage() {
  return (
    <div style={{ maxWidth: 440, margin: "40px auto" }}>
      <PageHeader title="Sign in" description="Paste an API key. The first start printed a one-time sign-in link and an admin key to the server's console." />
      <Suspense>
        <SignInForm />
      </Suspense>
    </div>
  );
}
