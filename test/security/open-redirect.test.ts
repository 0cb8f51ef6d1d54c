// After sign-in the dashboard follows `?next=` only within its own origin. The parser-level tricks
// (a backslash, a tab, a scheme) that a string check lets through must all land on the default page.
import { describe, expect, it } from "vitest";
import { sameOriginNext } from "@/lib/client/next-path";

const origin = "http://localhost:3000";

describe("sameOriginNext", () => {
  // as URLSearchParams hands them over: %5C is already a backslash, %09 a tab
  const escapes = [
    "/\\127.0.0.1:4656/x", "/\t/127.0.0.1:4656/x", "//127.0.0.1:4656/x", "/\\\\127.0.0.1:4656/x", "\\\\127.0.0.1/x",
    "https://127.0.0.1:4656/x", "javascript:alert(1)", "data:text/html,x", " //evil.example",
    "/\n/evil.example", "\t//evil.example", "http://localhost:3001/batches", "https://localhost:3000/batches", "//localhost:3000.evil.example/",
  ];
  for (const next of escapes) {
    it(`keeps ${JSON.stringify(next)} on the origin`, () => {
      const to = sameOriginNext(next, origin);
      expect(new URL(to).origin).toBe(origin);
      expect(to).toBe(`${origin}/batches`);
    });
  }

  it("reads a scheme-relative oddity the way the browser does, on the origin", () => {
    // the same scheme without slashes is a relative path under the URL standard
    expect(sameOriginNext("http:127.0.0.1:4656", origin)).toBe(`${origin}/127.0.0.1:4656`);
  });

  it("follows a same-origin path with its query and fragment", () => {
    expect(sameOriginNext("/datasets?limit=5#top", origin)).toBe(`${origin}/datasets?limit=5#top`);
    expect(sameOriginNext("/batches/batch_1/jobs", origin)).toBe(`${origin}/batches/batch_1/jobs`);
    expect(sameOriginNext(`${origin}/inbox`, origin)).toBe(`${origin}/inbox`);
  });

  it("a missing next goes to the default page", () => {
    expect(sameOriginNext(null, origin)).toBe(`${origin}/batches`);
    expect(sameOriginNext("", origin)).toBe(`${origin}/batches`);
  });
});
