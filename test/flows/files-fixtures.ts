// Files for the llm files tests: small PDF, PNG and text bodies, an upload of them as a dataset of
// files through POST /api/datasets, and its records as a flow receives them.
import { expect } from "vitest";
import type { FlowRecord } from "@/lib/flows/types";
import { call } from "../security/call";

export const PDF = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
export const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40, 7)]);
export const TEXT = Buffer.from("Invoice INV-7 from Acme, total 12.50 EUR\n");
export const schema = { type: "object", properties: { vendor: { type: "string" } }, required: ["vendor"] };

export async function uploadFiles(name: string, files: { name: string; data: Buffer; type?: string }[]) {
  const form = new FormData();
  form.append("name", name);
  for (const f of files) form.append("files", new Blob([new Uint8Array(f.data)], { type: f.type ?? "" }), f.name);
  const req = new Request("http://localhost/", { method: "POST", body: form });
  const res = await call("POST", "/api/datasets", {
    headers: { "content-type": req.headers.get("content-type")! },
    rawBody: Buffer.from(await req.arrayBuffer()) as unknown as string,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { id: string };
}

export async function records(dataset: string): Promise<FlowRecord[]> {
  const res = await call("GET", "/api/datasets/[id]/records", { params: { id: dataset } });
  return res.json.items.map((r: { record_id: string; data: unknown; position: number }) => ({ id: r.record_id, data: r.data, position: r.position }));
}
