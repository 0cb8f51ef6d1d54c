// Pages of one record (a batch, a dataset) are client components; the server looks the id up first so
// an unknown one answers with a real 404 status, not a not-found state served with 200.
import { cookies } from "next/headers";
import { notFound } from "next/navigation";
import { authEnabled } from "@/lib/auth/authorize";
import { hasScope } from "@/lib/auth/keys";
import { SESSION_COOKIE, readSession } from "@/lib/auth/session";
import { AppError } from "@/lib/errors";

/** Whether this page's visitor may read: auth off, or a live session with the read scope. */
async function mayRead(): Promise<boolean> {
  if (!authEnabled()) return true;
  const principal = await readSession((await cookies()).get(SESSION_COOKIE)?.value);
  return principal !== null && hasScope(principal.scopes, "read");
}

/**
 * Runs `lookup` and answers 404 when it throws not_found. A visitor who may not read learns nothing
 * (the page then shows what the API tells it); any other failure is left to the page's own error state.
 */
export async function notFoundIfMissing(lookup: () => Promise<unknown>): Promise<void> {
  if (!(await mayRead())) return;
  try {
    await lookup();
  } catch (e) {
    if (e instanceof AppError && e.code === "not_found") notFound();
  }
}
