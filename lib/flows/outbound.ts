// Which addresses and URLs Batchboard may call (http/llm/embed flows, completion webhooks). Without
// BATCHBOARD_HTTP_ALLOWLIST any public address is allowed and every other one (loopback, LAN,
// link-local, cloud metadata, reserved ranges, and IPv6 forms embedding such an IPv4 address) is
// refused, so a batch cannot be used to probe the server's network. With it set, only listed
// hosts are allowed, private or not. ./outbound-client applies these rules to each connection.
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { configValue } from "@/lib/config";

/** `retryable`: the refusal may pass later (a DNS failure), as opposed to a rule. */
export type OutboundCheck = { ok: true; url: URL } | { ok: false; reason: string; retryable?: boolean };

// IPv4 special-purpose ranges not reachable as a public service (IANA registry, RFC 6890 and later)
const privateV4 = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation (TEST-NET-1)
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation (TEST-NET-2)
  ["203.0.113.0", 24], // documentation (TEST-NET-3)
  ["224.0.0.0", 3], // multicast, reserved (240/4) and broadcast
] as const) {
  privateV4.addSubnet(net, bits, "ipv4");
}

// IPv6 ranges refused as such; the forms that embed an IPv4 address are judged by that address
const privateV6 = new BlockList();
for (const [net, bits] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["64:ff9b:1::", 48], // local-use NAT64: translates to addresses of the local network
  ["100::", 64], // discard-only
  ["2001:2::", 48], // benchmarking
  ["2001:10::", 28], // ORCHID
  ["2001:20::", 28], // ORCHIDv2
  ["2001:db8::", 32], // documentation
  ["3fff::", 20], // documentation
  ["5f00::", 16], // segment routing SIDs
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed by some networks)
  ["ff00::", 8], // multicast
] as const) {
  privateV6.addSubnet(net, bits, "ipv6");
}

/** The 16 bytes of an IPv6 address (zone id ignored), or null when it is not one. */
function ipv6Bytes(ip: string): number[] | null {
  let text = ip.split("%")[0]!;
  if (isIP(text) !== 6) return null;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[2]!.split(".").map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(tail);
  const all = tail === undefined ? front : [...front, ...Array<number>(Math.max(0, 8 - front.length - back.length)).fill(0), ...back];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

const v4 = (b: number[], at: number, invert = false) =>
  b
    .slice(at, at + 4)
    .map((x) => (invert ? x ^ 0xff : x))
    .join(".");
const zero = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

/**
 * The IPv4 addresses an IPv6 address carries: IPv4-mapped (::ffff:0:0/96), IPv4-compatible
 * (::/96), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16), and Teredo
 * (2001::/32: the server, and the client as the inverted last 32 bits).
 */
export function embeddedIPv4(ip: string): string[] {
  const b = ipv6Bytes(ip);
  if (!b) return [];
  if (zero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return [v4(b, 12)];
  if (zero(b, 0, 12)) return [v4(b, 12)];
  if (zero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zero(b, 10, 12)) return [v4(b, 12)];
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(b, 4, 12)) return [v4(b, 12)];
  if (b[0] === 0x20 && b[1] === 0x02) return [v4(b, 2)];
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return [v4(b, 4), v4(b, 12, true)];
  return [];
}

export function isPrivateAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, "");
  const family = isIP(bare.split("%")[0]!);
  if (family === 4) return privateV4.check(bare, "ipv4");
  if (family === 6) {
    if (embeddedIPv4(bare).some((a) => privateV4.check(a, "ipv4"))) return true;
    return privateV6.check(bare.split("%")[0]!, "ipv6");
  }
  return true;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/**
 * Test seam, never set by the application: `resolve` stands in for DNS; `onPinned` sees the
 * addresses a connection is handed after they were checked, and may throw to stop it (so tests
 * never dial past 127.0.0.1).
 */
export const outboundTestHooks: { resolve?: Resolver; onPinned?: (host: string, addresses: ResolvedAddress[]) => void } = {};

/** Every address of `host`, from DNS (or the test seam). */
export async function resolveHost(host: string): Promise<ResolvedAddress[]> {
  if (outboundTestHooks.resolve) return outboundTestHooks.resolve(host);
  return (await lookup(host, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

export function privateAddressReason(host: string, address: string): string {
  const what = host === address ? `${host} is a private address` : `${host} resolves to the private address ${address}`;
  return `${what}; list it in BATCHBOARD_HTTP_ALLOWLIST to allow it`;
}

/** Allowlist entries: "host", "host:port", "*.example.com", or an origin "https://host:port". */
export function parseAllowlist(raw: string | undefined = configValue("BATCHBOARD_HTTP_ALLOWLIST")): string[] | null {
  if (raw === undefined || raw.trim() === "") return null;
  return raw
    .split(/[,\s]+/)
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean)
    .map((e) => {
      if (!e.includes("://")) return e;
      try {
        return new URL(e).host;
      } catch {
        return e;
      }
    });
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === "https:" ? "443" : "80");
}

export function isAllowlisted(url: URL, allowlist: readonly string[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const port = defaultPort(url);
  return allowlist.some((entry) => {
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.startsWith("[") ? entry.replace(/^\[(.*)\](:\d+)?$/, "$1$2") : entry);
    const [pattern, entryPort] = [m?.[1] ?? entry, m?.[2]];
    if (entryPort && entryPort !== port) return false;
    if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1));
    return host === pattern;
  });
}

/** The checks that need no network: scheme, credentials in the URL, allowlist membership. */
export function checkOutboundUrlStatic(raw: string, allowlist = parseAllowlist()): OutboundCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `not a valid URL: ${JSON.stringify(raw)}` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: `only http and https URLs are allowed (got ${url.protocol})` };
  if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed: send them in a header by env reference" };
  if (allowlist && !isAllowlisted(url, allowlist)) {
    return { ok: false, reason: `host ${url.host} is not in BATCHBOARD_HTTP_ALLOWLIST` };
  }
  return { ok: true, url };
}
