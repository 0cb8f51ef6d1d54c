"use client";
// Page state kept in the URL's query (filters, the open job, what is compared): Back and a shared link
// keep it. `setParams` changes some keys (an empty value removes one) with router.replace.
import { usePathname, useRouter, useSearchParams, type ReadonlyURLSearchParams } from "next/navigation";
import { useCallback, useEffect, useRef } from "react";

export function useUrlParams(): [ReadonlyURLSearchParams, (change: Record<string, string | null>) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  // a replace not yet committed (the address changes only when the navigation does): two changes in a
  // row must build on each other, not both on the old address
  const pending = useRef<string | null>(null);
  useEffect(() => {
    if (params.toString() === pending.current) pending.current = null;
  }, [params]);
  const setParams = useCallback(
    (change: Record<string, string | null>) => {
      const next = new URLSearchParams(pending.current ?? window.location.search);
      for (const [k, v] of Object.entries(change)) {
        if (v) next.set(k, v);
        else next.delete(k);
      }
      const qs = next.toString();
      pending.current = qs;
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    },
    [pathname, router],
  );
  return [params, setParams];
}
