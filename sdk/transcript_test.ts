import assert from "node:assert/strict";
import { parseTranscriptLine, toolResultText, type TranscriptEntry } from "./transcript.ts";

/**
 * Lines the real claude CLI (the tested version) printed against the mock Anthropic API;
 * `deno run -A tools/capture_transcripts.ts` captures them again.
 */
async function corpus(name: string): Promise<TranscriptEntry[]> {
  const text = await Deno.readTextFile(new URL(`./testdata/real_cli/${name}`, import.meta.url));
  return text.split("\n").filter((l) => l !== "").map((l) => parseTranscriptLine(l));
}

function only<K extends TranscriptEntry["kind"]>(
  entries: TranscriptEntry[],
  kind: K,
): Extract<TranscriptEntry, { kind: K }>[] {
  return entries.filter((e): e is Extract<TranscriptEntry, { kind: K }> => e.kind === kind);
}

Deno.test("real CLI corpus: every line is a known entry", async () => {
  for (const name of ["plain", "tools", "tool_error", "api_error", "rate_limit"]) {
    for (const entry of await corpus(`${name}.jsonl`)) {
      assert.ok(!["invalid", "other", "missing"].includes(entry.kind), `${name}: ${entry.kind}`);
    }
  }
});

Deno.test("real CLI corpus: a plain two-turn conversation", async () => {
  const entries = await corpus("plain.jsonl");
  assert.deepEqual(entries.map((e) => e.kind), [
    "init",
    "prompt",
    "assistant",
    "result",
    "init",
    "prompt",
    "assistant",
    "result",
  ]);
  const [init] = only(entries, "init");
  assert.equal(init!.model, "claude-haiku-4-5");
  assert.equal(init!.permissionMode, "bypassPermissions");
  assert.ok(init!.sessionId && init!.cwd && init!.tools > 0);
  assert.deepEqual(only(entries, "prompt").map((p) => p.text), ["say hello", "and once more"]);
  assert.deepEqual(only(entries, "assistant")[0], {
    kind: "assistant",
    blocks: [{ kind: "text", text: "Hello from mock" }],
    apiError: null,
  });
  const [result] = only(entries, "result");
  assert.equal(result!.isError, false);
  assert.equal(result!.subtype, "success");
  assert.equal(result!.text, "Hello from mock");
  assert.equal(result!.numTurns, 1);
  assert.ok(result!.costUsd! > 0 && result!.durationMs! >= 0);
  assert.deepEqual(result!.errors, []);
});

Deno.test("real CLI corpus: Write and Bash calls pair with their results", async () => {
  const entries = await corpus("tools.jsonl");
  const blocks = [...only(entries, "assistant"), ...only(entries, "user")].flatMap((e) => e.blocks);
  const uses = blocks.filter((b) => b.kind === "tool_use");
  assert.deepEqual(uses.map((u) => u.name), ["Write", "Bash"]);
  const [write, bash] = uses;
  assert.match(String(write!.input.file_path), /\/hello\.txt$/);
  assert.equal(write!.input.content, "hello from mock tool_use\n");
  assert.match(String(bash!.input.command), /^echo bash-ran/);
  const results = blocks.filter((b) => b.kind === "tool_result");
  assert.deepEqual(results.map((r) => r.toolUseId), [write!.id, bash!.id]);
  assert.ok(results.every((r) => !r.isError));
  assert.match(results[0]!.text, /^File created successfully at: .*hello\.txt/);
  assert.match(results[1]!.text, /^bash-ran\nhello from mock tool_use\n\//);
  const texts = blocks.flatMap((b) => b.kind === "text" ? [b.text] : []);
  assert.deepEqual(texts, ["I'll write a file.", "done"]);
  assert.equal(only(entries, "result")[0]!.numTurns, 3);
});

Deno.test("real CLI corpus: a failed Bash call is an error result", async () => {
  const entries = await corpus("tool_error.jsonl");
  const [user] = only(entries, "user");
  assert.equal(user!.blocks.length, 1);
  const block = user!.blocks[0]!;
  assert.ok(block.kind === "tool_result");
  assert.equal(block.isError, true);
  assert.equal(block.text, "Exit code 1\ncat: missing.txt: No such file or directory");
  assert.equal(only(entries, "result")[0]!.isError, false);
});

Deno.test("real CLI corpus: an API error is a synthetic assistant error and an error result", async () => {
  const entries = await corpus("api_error.jsonl");
  assert.deepEqual(entries.map((e) => e.kind), ["init", "prompt", "assistant", "result"]);
  const [assistant] = only(entries, "assistant");
  assert.match(assistant!.apiError!, /^API Error: 500 Internal server error/);
  const [result] = only(entries, "result");
  assert.equal(result!.isError, true);
  assert.equal(result!.text, assistant!.apiError);
});

Deno.test("real CLI corpus: a rejected rate limit", async () => {
  const entries = await corpus("rate_limit.jsonl");
  const [limit] = only(entries, "rate_limit");
  assert.equal(limit!.status, "rejected");
  assert.ok(limit!.resetsAt! > 1_700_000_000);
  assert.match(only(entries, "assistant")[0]!.apiError!, /^You've hit your 5-hour limit/);
  assert.equal(only(entries, "result")[0]!.isError, true);
});

Deno.test("parseTranscriptLine(): thinking, redacted thinking and server tools", () => {
  const entry = parseTranscriptLine(JSON.stringify({
    type: "assistant",
    message: {
      content: [
        { type: "thinking", thinking: "hmm" },
        { type: "redacted_thinking", data: "x" },
        { type: "server_tool_use", id: "s1", name: "web_search", input: { query: "q" } },
        { type: "mystery" },
      ],
    },
  }));
  assert.deepEqual(entry, {
    kind: "assistant",
    apiError: null,
    blocks: [
      { kind: "thinking", text: "hmm" },
      { kind: "thinking", text: "(redacted)" },
      { kind: "tool_use", id: "s1", name: "web_search", input: { query: "q" } },
      { kind: "other", type: "mystery" },
    ],
  });
});

Deno.test("toolResultText() leaves out reminders and empty blocks, marks images", () => {
  assert.equal(
    toolResultText([
      { type: "text", text: "PAGE-4" },
      { type: "text", text: "" },
      { type: "text", text: "  <system-reminder>do not tell</system-reminder>" },
      { type: "image", source: {} },
      { type: "document" },
    ]),
    "PAGE-4\n[image]\n[document]",
  );
  assert.equal(toolResultText("plain"), "plain");
  assert.equal(toolResultText(undefined), "");
  assert.equal(toolResultText({ a: 1 }), '{"a":1}');
});

Deno.test("parseTranscriptLine(): system lines, other types, invalid and left-out lines", () => {
  assert.deepEqual(
    parseTranscriptLine(
      '{"type":"system","subtype":"api_retry","attempt":2,"max_retries":10,"error_status":529,"retry_delay_ms":500}',
    ),
    {
      kind: "system",
      subtype: "api_retry",
      detail: "API retry 2/10 after HTTP 529, waiting 500 ms",
      attempt: 2,
    },
  );
  assert.deepEqual(parseTranscriptLine('{"type":"system","subtype":"compact_boundary"}'), {
    kind: "system",
    subtype: "compact_boundary",
    detail: "Conversation compacted",
  });
  assert.deepEqual(parseTranscriptLine('{"type":"stream_event","subtype":"x"}'), {
    kind: "other",
    type: "stream_event",
    subtype: "x",
  });
  assert.deepEqual(parseTranscriptLine("{}"), { kind: "other", type: "unknown" });
  assert.deepEqual(parseTranscriptLine("nope"), { kind: "invalid", text: "nope" });
  assert.deepEqual(parseTranscriptLine("[1]"), { kind: "invalid", text: "[1]" });
  assert.deepEqual(parseTranscriptLine(null, 5), { kind: "missing", bytes: 5 });
});

Deno.test("parseTranscriptLine(): an assistant error without text names the error", () => {
  const entry = parseTranscriptLine('{"type":"assistant","message":{"content":[]},"error":"x"}');
  assert.ok(entry.kind === "assistant" && entry.apiError === "x");
  const bare = parseTranscriptLine('{"type":"assistant","is_api_error_message":true}');
  assert.ok(bare.kind === "assistant" && bare.apiError === "API error");
});

Deno.test("parseTranscriptLine() does not throw on odd shapes", () => {
  for (
    const raw of [
      '{"type":"assistant"}',
      '{"type":"assistant","message":{"content":"x"}}',
      '{"type":"assistant","message":{"content":[null,1,"s",{"type":"tool_use","input":[]}]}}',
      '{"type":"user","message":{"content":[null,1,{"type":"tool_result"}]}}',
      '{"type":"user","isReplay":true,"message":null}',
      '{"type":"result","errors":"no"}',
      '{"type":"rate_limit_event","rate_limit_info":7}',
      '{"type":"system","subtype":"init","tools":{}}',
      "null",
      "42",
    ]
  ) {
    const entry = parseTranscriptLine(raw);
    assert.ok(typeof entry.kind === "string", raw);
  }
});
