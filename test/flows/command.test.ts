import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { command } from "@/lib/flows/command";
import { parseFlowParameters } from "@/lib/flows/registry";
import type { FlowDefinition } from "@/lib/flows/types";
import { createTestContext, record, rejection, runFlow } from "./context";

const saved = process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
afterEach(() => {
  if (saved === undefined) delete process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
  else process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = saved;
});
const enable = () => {
  process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = "1";
};

describe("command flow", () => {
  it("is refused at batch creation and at run time while disabled", async () => {
    delete process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
    let err: unknown;
    try {
      parseFlowParameters(command as unknown as FlowDefinition, { command: "true" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("validation_failed");
    expect((err as AppError).details[0]?.message).toContain("BATCHBOARD_ENABLE_COMMAND_FLOW=1");

    // parameters validated while enabled, then the setting turned off before the job runs
    enable();
    const params = command.parameters.parse({ command: "echo should-not-run" });
    delete process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
    const h = createTestContext(params);
    expect(await rejection(command.run(record({}), h.ctx))).toMatchObject({ code: "command_disabled", retryable: false });
  });

  it("passes the record as JSON on stdin and quoted template arguments, capturing output", async () => {
    enable();
    const { result } = await runFlow(command, record({ name: "O'Brien; rm -rf /", n: 2 }), {
      command: `printf '%s|' {{record.name}}; cat; echo oops >&2`,
    });
    expect(result).toEqual({
      exit_code: 0,
      signal: null,
      stdout: `O'Brien; rm -rf /|{"name":"O'Brien; rm -rf /","n":2}\n`,
      stderr: "oops\n",
      stdout_truncated: false,
      stderr_truncated: false,
    });
  });

  it("fails a non-zero exit for good with stderr in the message, or returns it when asked", async () => {
    enable();
    const err = await rejection(runFlow(command, record({}), { command: "echo 'bad input' >&2; exit 3", stdin: "none" }));
    expect(err).toMatchObject({ code: "command_failed", retryable: false });
    expect(err.message).toContain("exited with 3: bad input");
    const { result } = await runFlow(command, record({}), { command: "exit 4", fail_on_nonzero: false });
    expect(result).toMatchObject({ exit_code: 4 });
  });

  it("caps captured output", async () => {
    enable();
    const { result } = await runFlow(command, record({}), { command: "head -c 5000 /dev/zero | tr '\\0' x", max_output_bytes: 100 });
    expect(result).toMatchObject({ stdout: "x".repeat(100), stdout_truncated: true });
  });

  it("kills the command on timeout, and at once when aborted", async () => {
    enable();
    const err = await rejection(runFlow(command, record({}), { command: "sleep 600", timeout_ms: 200 }));
    expect(err).toMatchObject({ code: "timeout", retryable: true });

    const h = createTestContext(command.parameters.parse({ command: "echo started; sleep 600", timeout_ms: 3_600_000 }));
    const running = command.run(record({}), h.ctx);
    const reason = new Error("cancelled");
    setImmediate(() => h.abort(reason));
    expect(await rejection(running)).toBe(reason);
  });
});
