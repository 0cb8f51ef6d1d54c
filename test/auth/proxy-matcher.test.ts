// The sign-in redirect (proxy.ts) covers pages only: the APIs, /batch included, answer 401 themselves,
// so an API client never gets a 307 to /signin. Checked with the matcher as Next.js compiles it.
import { describe, expect, it } from "vitest";
import * as staticInfo from "next/dist/build/analysis/get-page-static-info.js";
import { config } from "@/proxy";

// not in the module's type declarations: the function Next.js compiles `config.matcher` with
const { getMiddlewareMatchers } = staticInfo as unknown as { getMiddlewareMatchers(matcher: unknown, nextConfig: unknown): { regexp: string }[] };

describe("proxy matcher", () => {
  const [matcher] = getMiddlewareMatchers(config.matcher, {});
  const redirected = (p: string) => new RegExp(matcher!.regexp).test(p);

  it("leaves the APIs alone and keeps pages behind sign-in", () => {
    for (const p of ["/api/batches", "/v1/batches", "/batch", "/batch/jobs", "/batch/jobs/batch_1", "/batch/stats"]) {
      expect(redirected(p), p).toBe(false);
    }
    for (const p of ["/", "/batches", "/batches/batch_1", "/batchx", "/datasets", "/inbox"]) expect(redirected(p), p).toBe(true);
  });
});
