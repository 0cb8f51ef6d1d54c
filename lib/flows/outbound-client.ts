// The one way Batchboard calls out (http/llm/embed flows, completion webhooks). A name is resolved
// once per connection, inside the connection's own lookup, and every address is checked before the
// connection is handed one: what was checked is what is dialled, so a name that answers a public
// address for a check and a private one a moment later (DNS rebinding) gets no second answer.
// Redirects are not followed (their target would skip the check).
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import zlib from "node:zlib";
import { checkOutboundUrlStatic, isPrivateAddress, outboundTestHooks, parseAllowlist, privateAddressReason, resolveHost } from "./outbound";

/** A call the outbound rules refuse; `retryable` when it may pass later (a DNS failure). */
export class OutboundRefused extends Error {
  override name = "OutboundRefused";
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

export class OutboundResponseTooLarge extends Error {
  override name = "OutboundResponseTooLarge";
}

export interface OutboundRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** a longer response body fails the call (default 32 MiB) */
  maxResponseBytes?: number;
  /** do not read the body (webhooks only look at the status) */
  ignoreBody?: boolean;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  text: string;
}

const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** A network error as one line: its code and message (an AggregateError from trying several addresses has no message of its own). */
export function networkErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { errors?: unknown[] };
  const message = e?.message || (Array.isArray(e?.errors) ? e.errors.map((x) => (x as Error)?.message).filter(Boolean).join("; ") : "");
  if (e?.code && !message.includes(e.code)) return message ? `${e.code}: ${message}` : e.code;
  return message || String(err);
}

/** A lookup for net.connect: resolves, refuses private answers when `guard`, hands over only what it checked. */
function pinnedLookup(guard: boolean): LookupFunction {
  return (hostname, options, callback) => {
    const fail = (err: Error) => callback(err as NodeJS.ErrnoException, "", 0);
    resolveHost(hostname).then(
      (addresses) => {
        try {
          const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family;
          const wanted = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
          if (wanted.length === 0) return fail(new OutboundRefused(`cannot resolve ${hostname}: no address`, true));
          // all of them, not only those handed over: the name is refused as a whole
          const blocked = guard ? addresses.find((a) => isPrivateAddress(a.address)) : undefined;
          if (blocked) return fail(new OutboundRefused(privateAddressReason(hostname, blocked.address)));
          outboundTestHooks.onPinned?.(hostname, wanted);
          if (options.all) callback(null, wanted);
          else callback(null, wanted[0]!.address, wanted[0]!.family);
        } catch (err) {
          fail(err as Error);
        }
      },
      (err: Error) => fail(new OutboundRefused(`cannot resolve ${hostname}: ${err.message}`, true)),
    );
  };
}

// keep-alive pools, apart for guarded and allowlisted calls so a socket never moves between the two
const agents = {
  guarded: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
  listed: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
};
const lookups = { guarded: pinnedLookup(true), listed: pinnedLookup(false) };

function decoded(res: http.IncomingMessage): NodeJS.ReadableStream {
  const encoding = String(res.headers["content-encoding"] ?? "").toLowerCase();
  if (encoding === "gzip" || encoding === "x-gzip") return res.pipe(zlib.createGunzip());
  if (encoding === "deflate") return res.pipe(zlib.createInflate());
  if (encoding === "br") return res.pipe(zlib.createBrotliDecompress());
  return res;
}

function toHeaders(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      try {
        headers.append(name, v);
      } catch {
        // a value the Fetch API cannot hold: not one anything here reads
      }
    }
  }
  return headers;
}

/**
 * Sends one request under the outbound rules. Rejects with OutboundRefused when a rule refuses it,
 * OutboundResponseTooLarge past the size limit, or the network's error (an AbortError once `signal` aborts).
 */
export async function outboundRequest(req: OutboundRequest): Promise<OutboundResponse> {
  const allowlist = parseAllowlist();
  const check = checkOutboundUrlStatic(req.url, allowlist);
  if (!check.ok) throw new OutboundRefused(check.reason, check.retryable ?? false);
  const url = check.url;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  // with an allowlist, the listed hosts are allowed whatever their address (checkOutboundUrlStatic)
  const mode = allowlist ? "listed" : "guarded";
  // an address is dialled as it is, without a lookup: it is checked here instead
  if (mode === "guarded" && isIP(host) && isPrivateAddress(host)) throw new OutboundRefused(privateAddressReason(host, host));
  const secure = url.protocol === "https:";
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const headers: Record<string, string> = { "user-agent": "Batchboard", ...req.headers };
  if (body) headers["content-length"] = String(body.length);
  const max = req.maxResponseBytes ?? MAX_RESPONSE_BYTES;

  return new Promise<OutboundResponse>((resolve, reject) => {
    const request = (secure ? https : http).request(
      {
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers,
        agent: agents[mode][secure ? "https" : "http"],
        lookup: lookups[mode],
        signal: req.signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (req.ignoreBody) {
          res.resume();
          return resolve({ status, headers: toHeaders(res.headers), text: "" });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const stream = decoded(res);
        stream.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) {
            reject(new OutboundResponseTooLarge(`the response is larger than ${max} bytes`));
            return request.destroy();
          }
          chunks.push(chunk);
        });
        stream.on("end", () => resolve({ status, headers: toHeaders(res.headers), text: Buffer.concat(chunks).toString("utf8") }));
        stream.on("error", reject);
        res.on("error", reject);
        res.on("close", () => {
          if (!res.complete) reject(new Error("the connection closed before the response ended"));
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
