import type { Metadata } from "next";
import { headers } from "next/headers";
import type { ReactNode } from "react";
import { AppShell } from "@/components/layout/app-shell";
import { THEME_SCRIPT } from "@/components/ui/theme-script";
import { Providers } from "./providers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Batchboard", template: "%s · Batchboard" },
  description: "Run one flow over every record: launch, watch, inspect and retry batches.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // the script nonce of this response (proxy.ts): reading it renders every page per request, as nonces need
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    // the head script may set data-theme before hydration
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* a constant script (components/ui/theme-script.ts), never user data */}
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <Providers>
          <AppShell>{children}</AppShell>
        </Providers>
      </body>
    </html>
  );
}
