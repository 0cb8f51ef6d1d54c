import { afterEach, describe, expect, it } from "vitest";
import { checkOutboundUrlStatic, isAllowlisted, isPrivateAddress, parseAllowlist } from "@/lib/flows/outbound";
import { OutboundRefused, outboundRequest } from "@/lib/flows/outbound-client";
import { parseRetryAfter } from "@/lib/flows/http-client";

const saved = process.env.BATCHBOARD_HTTP_ALLOWLIST;
afterEach(() => {
  if (saved === undefined) delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
  else process.env.BATCHBOARD_HTTP_ALLOWLIST = saved;
});

describe("outbound URL rules", () => {
  it("knows private, loopback, link-local and mapped addresses", () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ["8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:1.1.1.1"]) expect(isPrivateAddress(ip), ip).toBe(false);
  });

  it("matches allowlist entries by host, host:port, wildcard and origin", () => {
    const list = parseAllowlist("api.openai.com, localhost:11434 *.internal.example https://10.0.0.5:8443")!;
    const allowed = (u: string) => isAllowlisted(new URL(u), list);
    expect(allowed("https://api.openai.com/v1/x")).toBe(true);
    expect(allowed("http://localhost:11434/v1")).toBe(true);
    expect(allowed("http://localhost:8080/")).toBe(false);
    expect(allowed("https://a.b.internal.example/")).toBe(true);
    expect(allowed("https://internal.example.evil.com/")).toBe(false);
    expect(allowed("https://10.0.0.5:8443/hook")).toBe(true);
    expect(allowed("https://10.0.0.5/hook")).toBe(false);
    expect(parseAllowlist("  ")).toBeNull();
  });

  it("refuses non-http schemes and credentials in URLs", () => {
    expect(checkOutboundUrlStatic("file:///etc/passwd", null)).toMatchObject({ ok: false });
    expect(checkOutboundUrlStatic("https://user:pw@example.com/", null)).toMatchObject({ ok: false });
    expect(checkOutboundUrlStatic("not a url", null)).toMatchObject({ ok: false });
  });

  it("refuses private addresses without an allowlist and allows them when listed", async () => {
    // refused before any connection (OutboundRefused), or let through to the network (port 9 is closed here)
    const outcome = (url: string) =>
      outboundRequest({ url, method: "GET", headers: {}, signal: AbortSignal.timeout(5000) }).then(
        () => "answered",
        (err: unknown) => (err instanceof OutboundRefused ? "refused" : "let through"),
      );
    delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
    expect(await outcome("http://127.0.0.1:9/")).toBe("refused");
    expect(await outcome("http://[::1]:9/")).toBe("refused");
    expect(await outcome("http://localhost:9/")).toBe("refused");
    expect(await outcome("http://169.254.169.254/latest/meta-data")).toBe("refused");
    process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1:9";
    expect(await outcome("http://127.0.0.1:9/")).toBe("let through");
    expect(await outcome("http://127.0.0.1:10/")).toBe("refused");
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter("1.5")).toBe(1500);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
