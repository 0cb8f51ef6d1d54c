// What the server does with a request before Next.js sees it (scripts/next-server.mjs): it records
// the socket's address in a header only it sets, drops forwarding headers unless a proxy is trusted,
// and refuses a Host it does not answer to (a DNS-rebinding page names its own host). Plain
// JavaScript: the custom server runs without a TypeScript loader.

/** The client's socket address, as the server saw it; a client-sent copy is overwritten. */
export const CLIENT_ADDRESS_HEADER = "x-batchboard-client-address";
const FORWARDING = ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "forwarded"];

/** The host name of a Host header value, lower case, without its port ("[::1]" keeps its brackets). */
export function hostName(value) {
  if (!value) return "";
  const v = String(value).trim().toLowerCase();
  if (v.startsWith("[")) return v.slice(0, v.indexOf("]") + 1);
  return v.split(":")[0];
}

/**
 * Prepares `req` for Next.js; returns null, or the refusal to send instead.
 * @param {import("node:http").IncomingMessage} req
 * @param {{ allowedHosts: string[] | null, trustProxy: boolean }} options
 */
export function admit(req, { allowedHosts, trustProxy }) {
  req.headers[CLIENT_ADDRESS_HEADER] = req.socket.remoteAddress ?? "unknown";
  // without a trusted proxy these are the client's say-so; Next.js sets its own from the socket and Host
  if (!trustProxy) for (const name of FORWARDING) delete req.headers[name];
  if (!allowedHosts) return null;
  const named = (trustProxy && req.headers["x-forwarded-host"]?.split(",")[0]) || req.headers.host;
  const host = hostName(named);
  if (allowedHosts.includes(host)) return null;
  const message = `this server does not answer to the host ${JSON.stringify(host)}: add it to BATCHBOARD_ALLOWED_HOSTS`;
  return { status: 403, body: JSON.stringify({ error: { code: "forbidden", message, details: [] } }) };
}
