import { cookies } from "next/headers";
import Link from "next/link";
import type { ReactNode } from "react";
import { authEnabled } from "@/lib/auth/authorize";
import { SESSION_COOKIE } from "@/lib/auth/session";
import { AuthOffBanner, SessionMenu } from "@/components/auth/session-menu";
import { ThemeToggle } from "@/components/ui/theme-toggle";
import { GlobalEvents } from "./global-events";
import { NavLinks } from "./nav-links";

export async function AppShell({ children }: { children: ReactNode }) {
  // signed out (auth on, no session cookie, as proxy.ts judges): the sign-in page shows no navigation
  const signedOut = authEnabled() && !(await cookies()).has(SESSION_COOKIE);
  return (
    <div className="shell">
      <a href="#content" className="skip-link">
        Skip to content
      </a>
      <AuthOffBanner />
      <header className="topbar">
        <Link href="/batches" className="brand" aria-label="Batchboard home">
          <span className="brand-mark" aria-hidden>▦</span> Batchboard
        </Link>
        {signedOut ? null : (
          <>
            <NavLinks />
            <Link href="/batches/new" className="btn btn-primary btn-sm">
              New batch
            </Link>
            <SessionMenu />
          </>
        )}
        <ThemeToggle />
      </header>
      <GlobalEvents />
      <main className="content" id="content">
        {children}
      </main>
    </div>
  );
}
