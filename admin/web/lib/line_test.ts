import assert from "node:assert/strict";
import { assistantText, onlyToolResults, parseLine } from "./line.ts";

Deno.test("parseLine(): assistant text, thinking and tool_use blocks", () => {
  const entry = parseLine(JSON.stringify({
    type: "assistant",
    message: {
      content: [
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "hi" },
        { type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } },
      ],
    },
  }));
  assert.deepEqual(entry, {
    kind: "assistant",
    apiError: null,
    blocks: [
      { kind: "thinking", text: "hmm" },
      { kind: "text", text: "hi" },
      { kind: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } },
    ],
  });
});

Deno.test("parseLine(): synthetic API errors are errors", () => {
  const entry = parseLine(JSON.stringify({
    type: "assistant",
    message: { model: "<synthetic>", content: [{ type: "text", text: "API Error: 500" }] },
    error: "server_error",
    is_api_error_message: true,
  }));
  assert.ok(entry.kind === "assistant" && entry.apiError === "API Error: 500");
});

Deno.test("parseLine(): tool results, string or block content", () => {
  const entry = parseLine(JSON.stringify({
    type: "user",
    message: {
      content: [
        { type: "tool_result", tool_use_id: "t1", content: "out", is_error: false },
        {
          type: "tool_result",
          tool_use_id: "t2",
          content: [{ type: "text", text: "a" }, { type: "image" }],
          is_error: true,
        },
      ],
    },
  }));
  assert.ok(entry.kind === "user");
  assert.deepEqual(entry.blocks, [
    { kind: "tool_result", toolUseId: "t1", text: "out", isError: false },
    { kind: "tool_result", toolUseId: "t2", text: "a\n[image]", isError: true },
  ]);
  assert.equal(onlyToolResults(entry), true);
});

Deno.test("parseLine(): result, init, system, rate limit, unknown, invalid, missing", () => {
  assert.deepEqual(
    parseLine(
      '{"type":"result","subtype":"success","is_error":false,"result":"done","total_cost_usd":0.5,"duration_ms":10,"num_turns":2}',
    ),
    {
      kind: "result",
      isError: false,
      subtype: "success",
      text: "done",
      costUsd: 0.5,
      durationMs: 10,
      numTurns: 2,
      errors: [],
    },
  );
  const init = parseLine('{"type":"system","subtype":"init","model":"m","tools":["a","b"]}');
  assert.ok(init.kind === "init" && init.model === "m" && init.tools === 2);
  const retry = parseLine(
    '{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"error_status":500}',
  );
  assert.ok(retry.kind === "system" && retry.detail.startsWith("API retry 1/10"));
  assert.deepEqual(
    parseLine('{"type":"rate_limit_event","rate_limit_info":{"status":"rejected"}}'),
    {
      kind: "rate_limit",
      status: "rejected",
      resetsAt: null,
    },
  );
  assert.deepEqual(parseLine('{"type":"weird"}'), { kind: "other", type: "weird" });
  assert.deepEqual(parseLine("not json"), { kind: "invalid", text: "not json" });
  assert.deepEqual(parseLine("[1]"), { kind: "invalid", text: "[1]" });
  assert.deepEqual(parseLine(null, 300000), { kind: "missing", bytes: 300000 });
  // odd shapes do not throw
  for (
    const raw of [
      '{"type":"assistant"}',
      '{"type":"assistant","message":{"content":"x"}}',
      '{"type":"user","message":{"content":[null,1,{"type":"tool_result"}]}}',
    ]
  ) {
    parseLine(raw);
  }
});

Deno.test("assistantText() is the last non-empty text block", () => {
  assert.equal(
    assistantText(
      '{"type":"assistant","message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}',
    ),
    "b",
  );
  assert.equal(assistantText('{"type":"result"}'), null);
  assert.equal(assistantText(null), null);
});

Deno.test("parseLine(): a replayed user line is the operator's prompt; tool results stay user", () => {
  // Exactly what claude 2.1.328 prints with --replay-user-messages for what we send on stdin.
  const echo = JSON.stringify({
    type: "user",
    message: { role: "user", content: [{ type: "text", text: "fix <b>it</b>\nplease" }] },
    session_id: "s",
    parent_tool_use_id: null,
    uuid: "u",
    timestamp: "2026-01-01T00:00:00.000Z",
    isReplay: true,
  });
  assert.deepEqual(parseLine(echo), { kind: "prompt", text: "fix <b>it</b>\nplease" });
  // The CLI echoes string content as a string.
  assert.deepEqual(
    parseLine('{"type":"user","message":{"role":"user","content":"hi"},"isReplay":true}'),
    { kind: "prompt", text: "hi" },
  );
  // Not a replay: a tool result (and a /compact summary) keep the generic user look.
  const tool = parseLine(
    '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]}}',
  );
  assert.ok(tool.kind === "user" && onlyToolResults(tool));
  assert.equal(
    parseLine('{"type":"user","message":{"content":[{"type":"text","text":"summary"}]}}').kind,
    "user",
  );
  // A replay without any text is not shown as an empty prompt.
  assert.equal(
    parseLine('{"type":"user","message":{"content":[{"type":"image"}]},"isReplay":true}').kind,
    "user",
  );
  // The dashboard's "last assistant line" never becomes the prompt.
  assert.equal(assistantText(echo), null);
});
