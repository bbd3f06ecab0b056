import assert from "node:assert/strict";
import { colorEnabled, createColors } from "./color.ts";
import { exitCodeOf, formatError, UsageError } from "./fail.ts";

Deno.test("formatError() prints error: Name: message, the cause chain only with --verbose", () => {
  class AgentNotFoundError extends Error {
    override name = "AgentNotFoundError";
  }
  const err = new Error("Cannot list agents", {
    cause: new AgentNotFoundError("Cannot find agent x", { cause: new TypeError("socket gone") }),
  });
  assert.equal(
    formatError(err, false),
    "error: Cannot list agents\n  (run with --verbose for the cause)",
  );
  assert.equal(
    formatError(err, true),
    "error: Cannot list agents\n  caused by: AgentNotFoundError: Cannot find agent x\n" +
      "  caused by: TypeError: socket gone",
  );
  assert.equal(formatError(new RangeError("bad"), false), "error: RangeError: bad");
  assert.equal(exitCodeOf(err), 1);
});

Deno.test("formatError() gives usage errors a one-line hint and exit code 2", () => {
  const err = new UsageError('unknown option "--bogus"', "agents");
  assert.equal(
    formatError(err, false),
    'error: unknown option "--bogus"\nhint: run `hero_orchestrator agents --help` for usage',
  );
  assert.equal(exitCodeOf(err), 2);
});

Deno.test("colour only on a terminal and never with NO_COLOR", () => {
  assert.equal(colorEnabled(true, undefined), true);
  assert.equal(colorEnabled(true, ""), true);
  assert.equal(colorEnabled(true, "1"), false);
  assert.equal(colorEnabled(false, undefined), false);
  assert.equal(createColors(false).red("x"), "x");
  assert.equal(createColors(true).red("x"), "\x1b[31mx\x1b[39m");
});
