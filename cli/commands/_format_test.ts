import assert from "node:assert/strict";
import { createColors } from "../color.ts";
import { renderMessage } from "./_format.ts";

const plain = createColors(false);

function render(seq: number, line: Record<string, unknown>): string {
  const raw = JSON.stringify(line);
  return renderMessage({
    seq,
    raw,
    type: String(line.type),
    subtype: null,
    parse_error: false,
    byte_length: raw.length,
  }, plain);
}

Deno.test("renderMessage() quotes a replayed prompt in full; tool results stay one arrow line", () => {
  const echo = (content: unknown) =>
    render(2, { type: "user", message: { role: "user", content }, isReplay: true });
  assert.equal(
    echo([{ type: "text", text: "fix the bug\nin main.ts" }]),
    "   2 > fix the bug\n      > in main.ts\n",
  );
  assert.equal(echo("string content"), "   2 > string content\n");
  assert.equal(
    render(5, {
      type: "user",
      message: { content: [{ type: "tool_result", tool_use_id: "t", content: "a.txt" }] },
    }),
    "   5 ← a.txt\n",
  );
});

Deno.test("renderMessage() renders what the real CLI printed: prompt, tool calls, results", async () => {
  const text = await Deno.readTextFile(
    new URL("../../sdk/testdata/real_cli/tools.jsonl", import.meta.url),
  );
  const out = text.split("\n").filter(Boolean).map((raw, i) =>
    renderMessage({
      seq: i + 1,
      raw,
      type: null,
      subtype: null,
      parse_error: false,
      byte_length: raw.length,
    }, plain)
  ).join("");
  const lines = out.split("\n");
  assert.match(lines[0]!, /^ {3}1 system init: model claude-haiku-4-5, session [0-9a-f-]{36}$/);
  assert.equal(lines[1], "   2 > SCENARIO_TOOLS please");
  assert.equal(lines[2], "   3 I'll write a file.");
  assert.match(lines[3]!, /^ {3}4 → Write\(\{"file_path":".*\/hello\.txt","content":/);
  assert.match(lines[4]!, /^ {3}5 ← File created successfully at: .*hello\.txt/);
  assert.match(lines[5]!, /^ {3}6 → Bash\(\{"command":"echo bash-ran/);
  assert.match(lines[6]!, /^ {3}7 ← bash-ran hello from mock tool_use \//);
  assert.equal(lines[7], "   8 done");
  assert.match(lines[8]!, /^ {3}9 result success, \$0\.0001: done$/);
});
