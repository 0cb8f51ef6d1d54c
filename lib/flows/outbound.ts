// Which URLs Batchboard may call (http/llm/embed flows, completion webhooks). Without
// BATCHBOARD_HTTP_ALLOWLIST any public address is allowed and private ones (loopback, LAN,
// link-local, cloud metadata) are refused, so a batch cannot be used to probe the server's network.
// With it set, only listed hosts are allowed, private or not.
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** `retryable`: the refusal may pass later (a DNS failure), as opposed to a rule. */
export type OutboundCheck = { ok: true; url: URL } | { ok: false; reason: string; retryable?: boolean };

const privateV4 = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const) {
  privateV4.addSubnet(net, bits, "ipv4");
}
const privateV6 = new BlockList();
privateV6.addAddress("::", "ipv6");
privateV6.addAddress("::1", "ipv6");
privateV6.addSubnet("fc00::", 7, "ipv6");
privateV6.addSubnet("fe80::", 10, "ipv6");
privateV6.addSubnet("ff00::", 8, "ipv6");

export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return privateV4.check(ip, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return privateV4.check(mapped[1]!, "ipv4");
    return privateV6.check(ip, "ipv6");
  }
  return true;
}

/** Allowlist entries: "host", "host:port", "*.example.com", or an origin "https://host:port". */
export function parseAllowlist(raw: string | undefined = process.env.BATCHBOARD_HTTP_ALLOWLIST): string[] | null {
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

/**
 * Full check: the static rules, then (unless the host is allowlisted) every address the name
 * resolves to must be public. The lookup happens here and again inside fetch, so a name that
 * changes its answer in between is not caught; the allowlist is the stronger guard.
 */
export async function checkOutboundUrl(raw: string): Promise<OutboundCheck> {
  const allowlist = parseAllowlist();
  const basic = checkOutboundUrlStatic(raw, allowlist);
  if (!basic.ok) return basic;
  const url = basic.url;
  if (allowlist) return basic; // listed explicitly: private addresses included on purpose
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch (err) {
      return { ok: false, reason: `cannot resolve ${host}: ${(err as Error).message}`, retryable: true };
    }
  }
  const blocked = addresses.find(isPrivateAddress);
  if (blocked) {
    return {
      ok: false,
      reason: `${host} resolves to the private address ${blocked}; list it in BATCHBOARD_HTTP_ALLOWLIST to allow it`,
    };
  }
  return basic;
}
