import Link from "next/link";
import type { ReactNode } from "react";
import { NavLinks } from "./nav-links";

export function AppShell({ children }: { children: ReactNode }) {
  return (
    <div className="shell">
      <header className="topbar">
        <Link href="/batches" className="brand" aria-label="Batchboard home">
          <span className="brand-mark" aria-hidden>▦</span> Batchboard
        </Link>
        <NavLinks />
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
