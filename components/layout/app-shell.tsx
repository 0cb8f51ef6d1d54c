import Link from "next/link";
import type { ReactNode } from "react";
import { AuthOffBanner, SessionMenu } from "@/components/auth/session-menu";
import { ThemeToggle } from "@/components/ui/theme-toggle";
import { GlobalEvents } from "./global-events";
import { NavLinks } from "./nav-links";

export function AppShell({ children }: { children: ReactNode }) {
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
        <NavLinks />
        <Link href="/batches/new" className="btn btn-primary btn-sm">
          New batch
        </Link>
        <SessionMenu />
        <ThemeToggle />
      </header>
      <GlobalEvents />
      <main className="content" id="content">
        {children}
      </main>
    </div>
  );
}
