"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { apiFetch } from "@/lib/client/api";

interface Session {
  auth: "on" | "off";
  name: string;
  scopes: string[];
  via: "bearer" | "session" | "none";
}

export const sessionKey = ["auth-session"] as const;

export function useSession() {
  return useQuery({ queryKey: sessionKey, queryFn: () => apiFetch<Session>("/api/auth/session"), staleTime: 60_000, retry: false });
}

/** The warning every page shows while BATCHBOARD_AUTH=off. */
export function AuthOffBanner() {
  const session = useSession();
  if (session.data?.auth !== "off") return null;
  return (
    <div className="auth-banner" role="alert">
      Authentication is off (<code>BATCHBOARD_AUTH=off</code>): anyone who can reach this server can read and change everything.
    </div>
  );
}

export function SessionMenu() {
  const session = useSession();
  const qc = useQueryClient();
  if (!session.data || session.data.auth === "off") {
    return session.data ? (
      <Link href="/settings" className="nav-link">
        Settings
      </Link>
    ) : null;
  }
  async function signOut() {
    await fetch("/api/auth/signout", { method: "POST" }).catch(() => {});
    qc.clear();
    // eslint-disable-next-line @next/next/no-location-assign-relative-destination -- a full load drops the client router's cached pages
    window.location.assign("/signin");
  }
  return (
    <div className="session-menu">
      <Link href="/settings" className="nav-link">
        Settings
      </Link>
      <span className="muted" title={`scopes: ${session.data.scopes.join(", ")}`} data-testid="signed-in-as">
        {session.data.name}
      </span>
      <button type="button" className="btn btn-sm" onClick={() => void signOut()}>
        Sign out
      </button>
    </div>
  );
}
