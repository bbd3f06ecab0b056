import assert from "node:assert/strict";
import { classifyLine } from "./classify.ts";

const encode = (text: string) => new TextEncoder().encode(text);

Deno.test("classifyLine reads system/init", () => {
  const line = classifyLine(
    encode('{"type":"system","subtype":"init","session_id":"s-1","model":"claude-haiku-4-5"}'),
  );
  assert.equal(line.type, "system");
  assert.equal(line.subtype, "init");
  assert.equal(line.parseError, false);
  assert.equal(line.value?.session_id, "s-1");
});

Deno.test("classifyLine reads assistant, user, stream_event and rate_limit_event lines", () => {
  const cases: [string, string][] = [
    [
      '{"type":"assistant","message":{"id":"msg_1","content":[{"type":"text","text":"hi"}]},"parent_tool_use_id":null}',
      "assistant",
    ],
    [
      '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t"}]}}',
      "user",
    ],
    ['{"type":"stream_event","event":{"type":"message_start"}}', "stream_event"],
    [
      '{"type":"rate_limit_event","rate_limit_info":{"status":"allowed","resetsAt":1795612807}}',
      "rate_limit_event",
    ],
  ];
  for (const [text, type] of cases) {
    const line = classifyLine(encode(text));
    assert.deepEqual(
      { type: line.type, subtype: line.subtype, parseError: line.parseError },
      { type, subtype: null, parseError: false },
      text,
    );
    assert.deepEqual(line.value, JSON.parse(text));
  }
});

Deno.test("classifyLine reads result whatever the key order", () => {
  // `type` sits near the end of real result lines.
  const line = classifyLine(
    encode(
      '{"duration_ms":416,"subtype":"success","is_error":false,"result":"ok","type":"result"}',
    ),
  );
  assert.equal(line.type, "result");
  assert.equal(line.subtype, "success");
  assert.equal(line.parseError, false);
});

Deno.test("classifyLine keeps unknown types as they are", () => {
  const line = classifyLine(encode('{"type":"keep_alive_v9","subtype":"new_thing","x":1}'));
  assert.equal(line.type, "keep_alive_v9");
  assert.equal(line.subtype, "new_thing");
  assert.equal(line.parseError, false);
});

Deno.test("classifyLine returns null type and subtype when they are not strings", () => {
  assert.deepEqual(classifyLine(encode('{"type":1,"subtype":null}')), {
    type: null,
    subtype: null,
    parseError: false,
    value: { type: 1, subtype: null },
  });
  assert.deepEqual(classifyLine(encode("{}")).value, {});
});

Deno.test("classifyLine flags invalid UTF-8 as a parse error", () => {
  const bytes = Uint8Array.from([
    ...encode('{"type":"assistant","text":"'),
    0xff,
    0xfe,
    ...encode('"}'),
  ]);
  assert.deepEqual(classifyLine(bytes), {
    type: null,
    subtype: null,
    parseError: true,
    value: null,
  });
  // A 4-byte character cut in half is invalid too.
  assert.equal(
    classifyLine(Uint8Array.from([...encode('{"t":"'), 0xf0, 0x9f, ...encode('"}')])).parseError,
    true,
  );
});

Deno.test("classifyLine accepts escaped lone surrogates and multi-byte text", () => {
  const line = classifyLine(encode('{"type":"assistant","text":"\\ud800 and \u{1F600}"}'));
  assert.equal(line.parseError, false);
  assert.equal(line.value?.text, "\ud800 and \u{1F600}");
});

Deno.test("classifyLine flags NUL bytes, garbage and empty lines as parse errors", () => {
  for (
    const bytes of [
      Uint8Array.from([...encode('{"type":"system"}'), 0x00]),
      Uint8Array.from([0x00]),
      encode("not json at all"),
      encode('{"type":"system"'),
      encode("[ede_diagnostic] something"),
      new Uint8Array(0),
    ]
  ) {
    const line = classifyLine(bytes);
    assert.equal(line.parseError, true, JSON.stringify(new TextDecoder().decode(bytes)));
    assert.equal(line.value, null);
    assert.equal(line.type, null);
  }
});

Deno.test("classifyLine flags JSON that is not an object as a parse error", () => {
  for (const text of ["[1,2]", '[{"type":"system"}]', "42", '"type"', "null", "true"]) {
    assert.deepEqual(
      classifyLine(encode(text)),
      { type: null, subtype: null, parseError: true, value: null },
      text,
    );
  }
});

Deno.test("classifyLine never throws on random bytes", () => {
  for (let i = 0; i < 2_000; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(i % 64));
    const line = classifyLine(bytes);
    assert.equal(typeof line.parseError, "boolean");
  }
});
