// The private-address guard and the pinned connection, end to end: every IPv6 form that embeds an
// IPv4 address, the special-purpose ranges, and DNS rebinding, against the http/llm/embed flows and
// webhook delivery, with a real listener on 127.0.0.1 that must receive nothing it was not allowed.
// DNS is a table here (the resolver seam), and a connection handed anything but 127.0.0.1 is
// stopped before it dials: tests never reach past this machine.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch } from "@/lib/engine";
import { deliverWebhooks } from "@/lib/engine/maintenance";
import { embed } from "@/lib/flows/embed";
import { http } from "@/lib/flows/http";
import { llm } from "@/lib/flows/llm";
import { isPrivateAddress, outboundTestHooks, type ResolvedAddress } from "@/lib/flows/outbound";
import { useTestDatabase } from "../helpers/db";
import { record, rejection, runFlow } from "../flows/context";

useTestDatabase();

const hits: string[] = [];
const listener = createServer((req, res) => {
  hits.push(`${req.method} ${req.url}`);
  req.resume();
  res.writeHead(200, { "content-type": "application/json" }).end('{"from":"loopback"}');
});
let port: number;

// the test's DNS: a name answers its list, in turn when it has several (a rebinding name)
const dns = new Map<string, string[][]>();
const lookups = new Map<string, number>();
const pinned: string[] = [];
const answer = (address: string): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 });

const savedAllowlist = process.env.BATCHBOARD_HTTP_ALLOWLIST;
beforeAll(async () => {
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  port = (listener.address() as AddressInfo).port;
  outboundTestHooks.resolve = async (host) => {
    const n = lookups.get(host) ?? 0;
    lookups.set(host, n + 1);
    const answers = dns.get(host);
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return answers[Math.min(n, answers.length - 1)]!.map(answer);
  };
  outboundTestHooks.onPinned = (_host, addresses) => {
    pinned.push(...addresses.map((a) => a.address));
    const outside = addresses.find((a) => a.address !== "127.0.0.1");
    if (outside) throw new Error(`test network: ${outside.address} is outside this machine`);
  };
});
afterAll(async () => {
  delete outboundTestHooks.resolve;
  delete outboundTestHooks.onPinned;
  listener.closeAllConnections();
  await new Promise((r) => listener.close(r));
});
beforeEach(() => {
  delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
  hits.length = 0;
  pinned.length = 0;
  lookups.clear();
  dns.clear();
});
afterEach(() => {
  if (savedAllowlist === undefined) delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
  else process.env.BATCHBOARD_HTTP_ALLOWLIST = savedAllowlist;
});

// addresses that reach this machine, its network, or nothing a batch should call
const EMBEDDING_LOOPBACK = {
  "::ffff:127.0.0.1": "IPv4-mapped, as typed (the URL parser makes it ::ffff:7f00:1)",
  "::ffff:7f00:1": "IPv4-mapped",
  "::7f00:1": "IPv4-compatible",
  "::ffff:0:7f00:1": "IPv4-translated (SIIT)",
  "64:ff9b::7f00:1": "NAT64",
  "64:ff9b:1::7f00:1": "local-use NAT64",
  "2002:7f00:1::": "6to4",
  "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo with client 127.0.0.1",
  "::ffff:a9fe:a9fe": "IPv4-mapped 169.254.169.254 (cloud metadata)",
};
const SPECIAL = [
  "::", "::1", "fec0::1", "2001:db8::1", "100::1", "fd00::1", "fe80::1", "ff02::1", "3fff::1",
  "0.0.0.0", "127.0.0.1", "10.0.0.1", "100.64.0.1", "169.254.169.254", "172.16.0.1", "192.0.0.1", "192.0.2.1",
  "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "240.0.0.1", "255.255.255.255",
];
const ALL = [...Object.keys(EMBEDDING_LOOPBACK), ...SPECIAL];
const literalUrl = (ip: string) => `http://${ip.includes(":") ? `[${ip}]` : ip}:${port}/probe`;

describe("which addresses are private", () => {
  it("recognises every form above, and leaves public addresses and their embeddings public", () => {
    for (const ip of ALL) expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"]) {
      expect(isPrivateAddress(ip), ip).toBe(false);
    }
  });
});

async function refusedByFlows(url: string, what: string) {
  const attempts = {
    http: () => runFlow(http, record({}), { url, timeout_ms: 5000 }),
    llm: () => runFlow(llm, record({}), { base_url: url, model: "m", timeout_ms: 5000 }),
    embed: () => runFlow(embed, record({ text: "x" }), { base_url: url, model: "m", timeout_ms: 5000 }),
  };
  for (const [flow, attempt] of Object.entries(attempts)) {
    const err = await rejection(attempt());
    expect(err, `${flow} to ${what}`).toMatchObject({ code: "url_not_allowed", retryable: false });
  }
}

describe("the flows", () => {
  it("refuse each form given as an address, and reach nothing", async () => {
    for (const ip of ALL) await refusedByFlows(literalUrl(ip), ip);
    expect(hits).toEqual([]);
  });

  it("refuse each form as a name's DNS answer, also when only one of its answers is private", async () => {
    for (const [i, ip] of ALL.entries()) dns.set(`n${i}.example.test`, [[ip]]);
    dns.set("mixed.example.test", [["93.184.216.34", "127.0.0.1"]]);
    for (const name of dns.keys()) await refusedByFlows(`http://${name}:${port}/probe`, `${name} (${dns.get(name)})`);
    expect(hits).toEqual([]);
    expect(pinned).toEqual([]);
  });

  it("connect to the address that was checked: a name that rebinds to 127.0.0.1 after the check never reaches it", async () => {
    dns.set("localhost", [["93.184.216.34"], ["127.0.0.1"]]);
    const err = await rejection(runFlow(http, record({}), { url: `http://localhost:${port}/probe`, timeout_ms: 5000 }));
    expect(err).toMatchObject({ code: "network_error" });
    expect(hits).toEqual([]);
    // one lookup, and the connection was handed exactly its answer
    expect(lookups.get("localhost")).toBe(1);
    expect(pinned).toEqual(["93.184.216.34"]);
  });

  it("call listed hosts as before, through the same pinned lookup", async () => {
    dns.set("api.internal.test", [["127.0.0.1"]]);
    process.env.BATCHBOARD_HTTP_ALLOWLIST = `api.internal.test:${port}`;
    const { result } = await runFlow(http, record({ a: 1 }), { url: `http://api.internal.test:${port}/probe` });
    expect(result).toEqual({ from: "loopback" });
    expect(hits).toEqual(["POST /probe"]);
    expect(pinned).toEqual(["127.0.0.1"]);
  });

  it("leave redirects unfollowed", async () => {
    const redirecting = createServer((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${port}/probe` }).end());
    await new Promise<void>((r) => redirecting.listen(0, "127.0.0.1", r));
    const other = (redirecting.address() as AddressInfo).port;
    process.env.BATCHBOARD_HTTP_ALLOWLIST = `127.0.0.1:${other}`;
    try {
      const err = await rejection(runFlow(http, record({}), { url: `http://127.0.0.1:${other}/start` }));
      expect(err).toMatchObject({ code: "http_302", retryable: false });
      expect(hits).toEqual([]);
    } finally {
      redirecting.closeAllConnections();
      await new Promise((r) => redirecting.close(r));
    }
  });
});

describe("webhook delivery", () => {
  async function deliver(urls: string[]): Promise<{ url: string; state: string; error: string | null }[]> {
    const ids: string[] = [];
    for (const url of urls) {
      const b = await createBatch({ flow: "echo", source: { kind: "records", records: ["x"], recordIdField: "id" }, webhook_url: url });
      ids.push(b.id);
    }
    // as a finished batch has it: due now
    await getPool().query(`UPDATE batches SET webhook_state = 'pending', webhook_next_at = now() WHERE id = ANY($1)`, [ids]);
    await deliverWebhooks(urls.length);
    const { rows } = await getPool().query(`SELECT webhook_url AS url, webhook_state AS state, webhook_last_error AS error FROM batches WHERE id = ANY($1)`, [ids]);
    await getPool().query(`UPDATE batches SET webhook_state = 'failed', webhook_next_at = NULL WHERE id = ANY($1)`, [ids]);
    return rows;
  }

  it("refuses each form, as an address and as a DNS answer, and reaches nothing", async () => {
    for (const [i, ip] of ALL.entries()) dns.set(`w${i}.example.test`, [[ip]]);
    const rows = await deliver([...ALL.map(literalUrl), ...[...dns.keys()].map((n) => `http://${n}:${port}/hook`)]);
    for (const r of rows) {
      expect(r.state, r.url).toBe("pending");
      expect(r.error, r.url).toMatch(/^refused: .*private address/);
    }
    expect(hits).toEqual([]);
  });

  it("connects to the address that was checked (DNS rebinding)", async () => {
    dns.set("localhost", [["93.184.216.34"], ["127.0.0.1"]]);
    const [row] = await deliver([`http://localhost:${port}/hook`]);
    expect(row!.error).toContain("outside this machine");
    expect(hits).toEqual([]);
    expect(lookups.get("localhost")).toBe(1);
  });

  it("delivers to a listed host", async () => {
    dns.set("hooks.internal.test", [["127.0.0.1"]]);
    process.env.BATCHBOARD_HTTP_ALLOWLIST = `hooks.internal.test:${port}`;
    const [row] = await deliver([`http://hooks.internal.test:${port}/hook?x=1`]);
    expect(row).toMatchObject({ state: "delivered", error: null });
    expect(hits).toEqual(["POST /hook?x=1"]);
  });
});
