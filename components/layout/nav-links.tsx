"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useOpenPromptCount } from "@/lib/client/hooks";

export const NAV_ITEMS = [
  { href: "/batches", label: "Batches" },
  { href: "/compare", label: "Compare" },
  { href: "/inbox", label: "Inbox" },
  { href: "/datasets", label: "Datasets" },
  { href: "/flows", label: "Flows" },
  { href: "/workers", label: "Workers" },
] as const;

export function NavLinks() {
  const pathname = usePathname();
  const openPrompts = useOpenPromptCount().data ?? 0;
  return (
    <nav aria-label="Main" className="nav">
      {NAV_ITEMS.map((item) => {
        const active = pathname === item.href || (pathname.startsWith(`${item.href}/`));
        const badge = item.href === "/inbox" && openPrompts > 0 ? openPrompts : null;
        return (
          <Link key={item.href} href={item.href} className="nav-link" aria-current={active ? "page" : undefined}>
            {item.label}
            {badge !== null ? (
              <span className="nav-badge" aria-label={`${badge} open`} data-testid="inbox-count">
                {badge > 999 ? "999+" : badge}
              </span>
            ) : null}
          </Link>
        );
      })}
    </nav>
  );
}
