import assert from "node:assert/strict";
import { readInit, readRateLimit, readResult } from "./turn_result.ts";

// Lines as printed by claude 2.1.328 (claude_protocol.md §1), trimmed.
const INIT = {
  type: "system",
  subtype: "init",
  cwd: "/w",
  session_id: "sid-1",
  tools: ["Bash"],
  model: "claude-haiku-4-5",
  permissionMode: "bypassPermissions",
  apiKeySource: "ANTHROPIC_API_KEY",
  claude_code_version: "2.1.328",
  uuid: "u",
};

const SUCCESS = {
  duration_api_ms: 52,
  stop_reason: "end_turn",
  session_id: "sid-1",
  total_cost_usd: 0.000042,
  usage: {
    input_tokens: 12,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 6,
  },
  permission_denials: [],
  terminal_reason: "completed",
  is_error: false,
  num_turns: 1,
  subtype: "success",
  api_error_status: null,
  result: "Hello from mock2",
  type: "result",
  duration_ms: 416,
};

Deno.test("readInit reads session, model, permission mode and version", () => {
  assert.deepEqual(readInit(INIT), {
    sessionId: "sid-1",
    model: "claude-haiku-4-5",
    permissionMode: "bypassPermissions",
    claudeCodeVersion: "2.1.328",
  });
});

Deno.test("readInit ignores other lines and tolerates wrong field types", () => {
  assert.equal(readInit({ type: "system", subtype: "status" }), null);
  assert.equal(readInit({ type: "result", subtype: "init" }), null);
  assert.deepEqual(readInit({ type: "system", subtype: "init", session_id: 5, model: null }), {
    sessionId: null,
    model: null,
    permissionMode: null,
    claudeCodeVersion: null,
  });
});

Deno.test("readResult reads a successful turn", () => {
  assert.deepEqual(readResult(SUCCESS), {
    isError: false,
    subtype: "success",
    apiErrorStatus: null,
    numTurns: 1,
    result: "Hello from mock2",
    sessionId: "sid-1",
    totalCostUsd: 0.000042,
    terminalReason: "completed",
    errors: [],
  });
});

Deno.test("readResult reports an API error from is_error although the subtype is success", () => {
  const turn = readResult({
    ...SUCCESS,
    is_error: true,
    api_error_status: 403,
    terminal_reason: "api_error",
    result: "Failed to authenticate. API Error: 403 unknown proxy token",
  });
  assert.equal(turn?.isError, true);
  assert.equal(turn?.subtype, "success");
  assert.equal(turn?.apiErrorStatus, 403);
  assert.equal(turn?.terminalReason, "api_error");
});

Deno.test("readResult reads interrupts and max-turns errors", () => {
  const aborted = readResult({
    type: "result",
    subtype: "error_during_execution",
    is_error: true,
    api_error_status: null,
    terminal_reason: "aborted_streaming",
    result: null,
    num_turns: 2,
    errors: ["[ede_diagnostic] stream aborted", 7],
  });
  assert.equal(aborted?.isError, true);
  assert.equal(aborted?.result, null);
  assert.equal(aborted?.numTurns, 2);
  assert.deepEqual(aborted?.errors, ["[ede_diagnostic] stream aborted"]);
  const maxTurns = readResult({
    type: "result",
    subtype: "error_max_turns",
    is_error: true,
    terminal_reason: "max_turns",
    errors: ["Reached maximum number of turns (1)"],
  });
  assert.equal(maxTurns?.terminalReason, "max_turns");
  assert.equal(maxTurns?.apiErrorStatus, null);
});

Deno.test("readResult ignores other lines and tolerates wrong field types", () => {
  assert.equal(readResult({ type: "assistant" }), null);
  assert.deepEqual(
    readResult({
      type: "result",
      subtype: "success",
      is_error: false,
      api_error_status: "429",
      num_turns: -1,
      total_cost_usd: "0.1",
      result: 42,
      session_id: {},
      terminal_reason: [],
      errors: "boom",
    }),
    {
      isError: false,
      subtype: "success",
      apiErrorStatus: null,
      numTurns: 0,
      result: null,
      sessionId: null,
      totalCostUsd: null,
      terminalReason: null,
      errors: [],
    },
  );
  assert.equal(readResult({ type: "result", num_turns: 1.5 })?.numTurns, 0);
  assert.equal(readResult({ type: "result", total_cost_usd: Number.NaN })?.totalCostUsd, null);
});

Deno.test("readResult treats a missing is_error as an error unless the subtype is success", () => {
  assert.equal(readResult({ type: "result", subtype: "success" })?.isError, false);
  assert.equal(readResult({ type: "result", subtype: "error_max_turns" })?.isError, true);
  assert.equal(readResult({ type: "result" })?.isError, true);
  assert.equal(readResult({ type: "result", subtype: "success", is_error: "yes" })?.isError, false);
});

Deno.test("readRateLimit converts resetsAt from epoch seconds to milliseconds", () => {
  assert.deepEqual(
    readRateLimit({
      type: "rate_limit_event",
      rate_limit_info: {
        status: "allowed",
        resetsAt: 1795612807,
        rateLimitType: "five_hour",
        isUsingOverage: false,
        unifiedWindows: { five_hour: { utilization: 0.91, resetsAt: 1795612807 } },
      },
    }),
    { status: "allowed", rejected: false, resetsAtMs: 1795612807000, rateLimitType: "five_hour" },
  );
});

Deno.test("readRateLimit flags a rejected status", () => {
  const info = readRateLimit({
    type: "rate_limit_event",
    rate_limit_info: { status: "rejected", resetsAt: 1795612807.5, rateLimitType: "seven_day" },
  });
  assert.equal(info?.rejected, true);
  assert.equal(info?.resetsAtMs, 1795612807500);
  assert.equal(
    readRateLimit({ type: "rate_limit_event", rate_limit_info: { status: "allowed_warning" } })
      ?.rejected,
    false,
  );
});

Deno.test("readRateLimit ignores other lines and tolerates wrong field types", () => {
  assert.equal(readRateLimit({ type: "system", rate_limit_info: { status: "rejected" } }), null);
  assert.equal(readRateLimit({ type: "rate_limit_event" }), null);
  assert.equal(readRateLimit({ type: "rate_limit_event", rate_limit_info: [1] }), null);
  assert.deepEqual(
    readRateLimit({
      type: "rate_limit_event",
      rate_limit_info: { status: 1, resetsAt: "soon", rateLimitType: 5 },
    }),
    { status: "unknown", rejected: false, resetsAtMs: null, rateLimitType: null },
  );
  // Already milliseconds (a value no epoch-seconds figure reaches): kept as is.
  assert.equal(
    readRateLimit({ type: "rate_limit_event", rate_limit_info: { resetsAt: 1795612807000 } })
      ?.resetsAtMs,
    1795612807000,
  );
});
