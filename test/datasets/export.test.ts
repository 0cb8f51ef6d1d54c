import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { csvHeader, csvRow, toOpenAIOutputLine } from "@/lib/datasets/export";
import type { ResultRow } from "@/lib/engine/types";

const ok: ResultRow = { recordId: "req-1", position: 0, status: "succeeded", result: { label: "positive" }, error: null, cost: 0.25 };
const failed: ResultRow = {
  recordId: "req-2",
  position: 1,
  status: "failed",
  result: null,
  error: { code: "http_500", message: 'upstream said "no",\nthen hung up', retryable: true },
  cost: 0,
  record: { text: "a, b" },
};

describe("OpenAI Batch output lines", () => {
  it("maps a success to a 200 response carrying the result, and a failure to an error", () => {
    expect(toOpenAIOutputLine(ok, "batch_x")).toEqual({
      id: "batch_x_0",
      custom_id: "req-1",
      response: { status_code: 200, request_id: "batch_x:req-1", body: { label: "positive" } },
      error: null,
    });
    expect(toOpenAIOutputLine(failed, "batch_x")).toMatchObject({
      custom_id: "req-2",
      response: null,
      error: { code: "http_500", message: 'upstream said "no",\nthen hung up' },
    });
    expect(toOpenAIOutputLine({ ...ok, status: "skipped", result: null }, "b").error?.code).toBe("skipped");
  });

  it("writes a response the flow kept unchanged, a failure's too, and OpenAI's codes for requests never run", () => {
    const completion = { id: "chatcmpl-9", object: "chat.completion", choices: [{ message: { content: "hi" } }] };
    const llmResult = { content: "hi", usage: {}, model: "m", response: { status_code: 200, request_id: "req_up", body: completion } };
    expect(toOpenAIOutputLine({ ...ok, result: llmResult }, "b")).toEqual({
      id: "b_0",
      custom_id: "req-1",
      response: { status_code: 200, request_id: "req_up", body: completion },
      error: null,
    });
    const rejected = { response: { status_code: 400, request_id: "req_400", body: { error: { message: "bad", type: "invalid_request_error" } } } };
    expect(toOpenAIOutputLine({ ...failed, result: rejected }, "b")).toMatchObject({ response: rejected.response, error: null });
    const cancelled = { ...failed, status: "cancelled" as const, error: { code: "cancelled", message: "batch cancelled", retryable: false } };
    expect(toOpenAIOutputLine(cancelled, "b").error?.code).toBe("batch_cancelled");
    const expired = { ...cancelled, error: { code: "batch_expired", message: "expired", retryable: false } };
    expect(toOpenAIOutputLine(expired, "b").error).toEqual({
      code: "batch_expired",
      message: "This request could not be executed before the completion window expired.",
    });
  });
});

describe("results CSV", () => {
  it("quotes per RFC 4180 so a CSV parser reads the fields back exactly", () => {
    const text = csvHeader({ withRecord: true }) + csvRow(ok, { withRecord: true }) + csvRow(failed, { withRecord: true });
    expect(text.endsWith("\r\n")).toBe(true);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows[0]).toMatchObject({ record_id: "req-1", status: "succeeded", result: '{"label":"positive"}', cost: "0.25", record: "" });
    expect(rows[1]).toMatchObject({ error_code: "http_500", error_message: 'upstream said "no",\nthen hung up', record: '{"text":"a, b"}' });
  });
});
