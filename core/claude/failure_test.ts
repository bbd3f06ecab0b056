import assert from "node:assert/strict";
import { AgentErrorCode, errorFix } from "../models/mod.ts";
import { exitFailure, readResult, resultFailure } from "./mod.ts";

const result = (fields: Record<string, unknown>) =>
  readResult({ type: "result", subtype: "success", is_error: true, ...fields })!;

Deno.test("every error code but cancelled has a one-line fix", () => {
  for (const code of AgentErrorCode.options) {
    const fix = errorFix(code);
    if (code === "cancelled") assert.equal(fix, null);
    else assert.ok(fix && !fix.includes("\n") && fix.length < 240, code);
  }
  assert.equal(errorFix("no_such_code"), null);
  assert.equal(errorFix("toString"), null);
});

Deno.test("a result is classified by its status and the credential, not by its words", () => {
  // The same words mean different things with different credentials behind the proxy.
  const said = result({ api_error_status: 401, result: "Not logged in · Please run /login" });
  assert.equal(resultFailure(said, { credential: "api_key" }).error_code, "invalid_api_key");
  assert.equal(resultFailure(said, { credential: "bearer" }).error_code, "invalid_api_key");
  assert.equal(resultFailure(said, { credential: "oauth" }).error_code, "not_logged_in");
  assert.equal(resultFailure(said, { credential: null }).error_code, "not_logged_in");
  for (const status of [502, 503, 504]) {
    assert.equal(
      resultFailure(result({ api_error_status: status })).error_code,
      "upstream_unreachable",
    );
  }
  assert.equal(resultFailure(result({ api_error_status: 500 })).error_code, "api_error");
  assert.equal(resultFailure(result({ api_error_status: 429 })).error_code, "rate_limited");
  // 403 is the proxy refusing the agent's token: not a login problem of the person.
  assert.equal(
    resultFailure(result({ api_error_status: 403 }), { assistantError: "authentication_failed" })
      .error_code,
    "api_error",
  );
  const maxTurns = result({ subtype: "error_max_turns", api_error_status: null, errors: ["x"] });
  assert.equal(
    resultFailure({ ...maxTurns, terminalReason: "max_turns" }).error_code,
    "turn_error",
  );
});

Deno.test("an exit without a result is root_without_sandbox only for claude's refusal", () => {
  const exit1 = { success: false, code: 1, signal: null } as Deno.CommandStatus;
  assert.equal(
    exitFailure(
      exit1,
      "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons\n",
    ).error_code,
    "root_without_sandbox",
  );
  assert.equal(exitFailure(exit1, "boom\n").error_code, "exit_nonzero");
  const killed = { success: false, code: 137, signal: "SIGKILL" } as Deno.CommandStatus;
  assert.equal(
    exitFailure(killed, "").error_message,
    "claude was killed by SIGKILL before printing a result",
  );
});
