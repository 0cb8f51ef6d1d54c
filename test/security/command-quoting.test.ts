// The command flow shell-quotes every substituted value. A placeholder the command quotes again
// ("{{record.x}}") ends up inside a double-quoted string, where $( ) in record data runs.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { command } from "@/lib/flows/command";
import { AppError } from "@/lib/errors";
import { parseFlowParameters } from "@/lib/flows/registry";
import { quotedPlaceholderProblem } from "@/lib/flows/shell-placeholders";
import type { FlowDefinition } from "@/lib/flows/types";
import { createTestContext, record, runFlow } from "../flows/context";

const dir = mkdtempSync(path.join(tmpdir(), "bb-command-"));
const pwned = path.join(dir, "pwned");
const saved = process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;

beforeEach(() => {
  process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = "1";
  rmSync(pwned, { force: true });
});
afterEach(() => {
  if (saved === undefined) delete process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
  else process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = saved;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const evil = { x: `$(touch ${pwned})`, y: `'; touch ${pwned}; '`, z: `\`touch ${pwned}\`` };

function creationError(cmd: string): AppError {
  try {
    parseFlowParameters(command as unknown as FlowDefinition, { command: cmd });
  } catch (err) {
    return err as AppError;
  }
  throw new Error(`${cmd} was accepted`);
}

const REFUSED = [
  `echo "{{record.x}}"`,
  `echo '{{record.y}}'`,
  `echo "prefix {{ record.x }} suffix"`,
  "echo `echo {{record.z}}`",
  `echo "$(echo "{{record.x}}")"`,
  `echo \${HOME:-{{record.x}}}`,
  `echo \\{{record.y}}`,
  `cat <<EOF\n{{record.x}}\nEOF`,
];

describe("command flow placeholders", () => {
  it("refuses a placeholder inside quotes at creation, naming parameters.command", () => {
    for (const cmd of REFUSED) {
      const err = creationError(cmd);
      expect(err, cmd).toBeInstanceOf(AppError);
      expect(err.code).toBe("validation_failed");
      expect(err.details.map((d) => d.path), cmd).toContain("parameters.command");
      expect(err.details.find((d) => d.path === "parameters.command")?.message).toMatch(/placeholder/);
    }
  });

  it("accepts placeholders standing as words next to quoted text, subshells and here-strings", () => {
    for (const cmd of [
      `echo "a" {{record.x}} 'b'`,
      `(cd /tmp && cat -- {{record.f}})`,
      `n=$(date +%s); echo "$n" {{record.x}}`,
      `tr a-z A-Z <<< {{record.x}}`,
      `curl --data-urlencode q={{record.q}} "https://example.com/?a=\"b\""`,
      `echo {{record.x}} # don't worry`,
      `echo plain text`,
    ]) {
      expect(quotedPlaceholderProblem(cmd), cmd).toBeNull();
    }
  });

  it("does not let record data run code from a batch stored before the rule (fails the record instead)", async () => {
    // parameters as a batch created before placeholders in quotes were refused holds them
    const params = { command: `echo "{{record.x}}"`, stdin: "none" as const, timeout_ms: 10_000, max_output_bytes: 1000, fail_on_nonzero: true };
    const h = createTestContext(params);
    const outcome = await command.run(record(evil), h.ctx).then(
      (v) => v,
      (e: unknown) => e,
    );
    expect(existsSync(pwned), "the record's $(touch) ran").toBe(false);
    expect(outcome).toMatchObject({ code: "command_invalid", retryable: false });
  });

  it("still runs placeholders standing as words of their own, with hostile values kept as data", async () => {
    const { result } = await runFlow(command, record(evil), {
      command: `printf '%s\\n' -- {{record.x}} {{record.y}} {{record.z}} --name={{record.x}} # it's a comment`,
      stdin: "none",
    });
    expect((result as { stdout: string }).stdout).toBe(`--\n${evil.x}\n${evil.y}\n${evil.z}\n--name=${evil.x}\n`);
    expect(existsSync(pwned)).toBe(false);
  });
});
