// Who is on the other end of the connection, for the auth throttle and the rate limits. The socket
// address comes from the header the server sets on every request (scripts/lib/edge.mjs) and a client
// cannot forge; X-Forwarded-For is read only behind a proxy the operator trusts (BATCHBOARD_TRUST_PROXY).
import { getConfig } from "@/lib/config";

export const CLIENT_ADDRESS_HEADER = "x-batchboard-client-address";

/** IPv6 clients get a /64 each (one host can hold all of it); IPv4, its address. */
function normalise(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(":")) return a;
  const [head, tail = ""] = a.split("::");
  const left = head ? head.split(":") : [];
  const right = a.includes("::") && tail ? tail.split(":") : [];
  const groups = a.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** The client's address (or IPv6 /64); "unknown" when the request did not come through the server. */
export function clientAddress(request: Request): string {
  if (getConfig().BATCHBOARD_TRUST_PROXY) {
    // the nearest proxy appends the address it saw: earlier entries are the client's own say-so
    const last = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (last) return normalise(last);
  }
  const socket = request.headers.get(CLIENT_ADDRESS_HEADER);
  return socket ? normalise(socket) : "unknown";
}

/** The host the client named: X-Forwarded-Host only behind a trusted proxy. */
export function requestHost(request: Request): string | null {
  const forwarded = getConfig().BATCHBOARD_TRUST_PROXY ? request.headers.get("x-forwarded-host")?.split(",")[0]?.trim() : undefined;
  return forwarded || request.headers.get("host");
}
