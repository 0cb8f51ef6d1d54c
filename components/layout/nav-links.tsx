"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState } from "react";
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
  // narrow screens show a Menu button instead of the links (CSS decides); a followed link closes it
  const [openAt, setOpenAt] = useState<string | null>(null);
  const open = openAt === pathname;
  return (
    <>
      <button
        type="button"
        className="btn btn-sm menu-button"
        aria-expanded={open}
        aria-controls="main-nav"
        onClick={() => setOpenAt(open ? null : pathname)}
      >
        Menu
      </button>
      <nav aria-label="Main" id="main-nav" className={open ? "nav is-open" : "nav"}>
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
    </>
  );
}
