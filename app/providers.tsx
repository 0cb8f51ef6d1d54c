"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { z } from "zod";

// zod compiles fast parsers with `new Function` after probing whether eval is allowed; under the
// pages' nonce CSP (lib/csp.ts) the probe is refused and reported as a violation. Parse without it.
z.config({ jitless: true });

// The one QueryClientProvider for the whole app.
export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: { staleTime: 2_000, refetchOnWindowFocus: true, retry: 1 },
        },
      }),
  );
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
