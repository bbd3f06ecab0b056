import assert from "node:assert/strict";
import { itemsOf, spokenTextOf, toolLabel } from "./lines.ts";

const line = (o: unknown) => JSON.stringify(o);

Deno.test("itemsOf() shows assistant text and one short line per tool call", () => {
  const raw = line({
    type: "assistant",
    message: {
      content: [
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "Reading." },
        { type: "tool_use", name: "mcp__hero_books__get_page", input: { page: 4 } },
        { type: "tool_use", name: "Bash", input: { command: "ls  -la\n/tmp" } },
      ],
    },
  });
  assert.deepEqual(itemsOf(2, raw), [
    { kind: "text", seq: 2, text: "Reading." },
    { kind: "tool", seq: 2, label: "hero_books · get_page", detail: '{"page":4}' },
    { kind: "tool", seq: 2, label: "Bash", detail: "ls -la /tmp" },
  ]);
  assert.equal(spokenTextOf(raw), "Reading.");
});

Deno.test("itemsOf() shows tool results without system reminders, and errors", () => {
  const result = line({
    type: "user",
    message: {
      content: [{
        type: "tool_result",
        content: [{ type: "text", text: "PAGE-4" }, { type: "text", text: "<system-reminder>x" }],
      }],
    },
  });
  assert.deepEqual(itemsOf(3, result), [
    { kind: "tool_result", seq: 3, text: "PAGE-4", isError: false },
  ]);
  assert.deepEqual(itemsOf(4, line({ type: "result", is_error: true, result: "Boom" })), [
    { kind: "error", seq: 4, text: "Boom" },
  ]);
  assert.deepEqual(itemsOf(5, line({ type: "result", is_error: false, result: "ok" })), []);
  assert.deepEqual(
    itemsOf(6, line({ type: "result", is_error: true, result: null, errors: ["a", "b"] })),
    [{ kind: "error", seq: 6, text: "a; b" }],
  );
  assert.deepEqual(
    itemsOf(
      7,
      line({
        type: "assistant",
        error: "rate_limit",
        is_api_error_message: true,
        message: { content: [{ type: "text", text: "API Error: 429" }] },
      }),
    ),
    [{ kind: "error", seq: 7, text: "API Error: 429" }],
  );
});

Deno.test("itemsOf() skips init, unknown and broken lines, and marks left-out ones", () => {
  assert.deepEqual(itemsOf(1, line({ type: "system", subtype: "init" })), []);
  assert.deepEqual(itemsOf(1, "not json"), []);
  assert.deepEqual(itemsOf(1, line({ type: "stream_event" })), []);
  assert.equal(itemsOf(1, null)[0]!.kind, "notice");
  assert.equal(toolLabel("Read"), "Read");
});

Deno.test("itemsOf() skips claude's echo of a prompt: the widget shows its own, once", () => {
  const echo = (content: unknown) =>
    line({
      type: "user",
      message: { role: "user", content },
      session_id: "s",
      parent_tool_use_id: null,
      uuid: "u",
      isReplay: true,
    });
  assert.deepEqual(itemsOf(2, echo([{ type: "text", text: "What is on page 4?" }])), []);
  assert.deepEqual(itemsOf(2, echo("What is on page 4?")), []);
  assert.equal(spokenTextOf(echo([{ type: "text", text: "What is on page 4?" }])), "");
});

Deno.test("itemsOf() over what the real CLI printed: a failed tool, then an API error", async () => {
  const items = async (name: string) => {
    const text = await Deno.readTextFile(
      new URL(`../../../sdk/testdata/real_cli/${name}`, import.meta.url),
    );
    return text.split("\n").filter(Boolean).flatMap((raw, i) => itemsOf(i + 1, raw));
  };
  assert.deepEqual(await items("tool_error.jsonl"), [
    { kind: "text", seq: 3, text: "Reading it." },
    { kind: "tool", seq: 4, label: "Bash", detail: "cat missing.txt" },
    {
      kind: "tool_result",
      seq: 5,
      text: "Exit code 1 cat: missing.txt: No such file or directory",
      isError: true,
    },
    { kind: "text", seq: 6, text: "missing.txt does not exist" },
  ]);
  const failed = await items("api_error.jsonl");
  assert.deepEqual(failed.map((i) => [i.kind, i.seq]), [["error", 3], ["error", 4]]);
  assert.match((failed[0] as { text: string }).text, /^API Error: 500 Internal server error/);
});
