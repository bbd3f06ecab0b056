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
