import assert from "node:assert/strict";
import { diffLines } from "./diff.ts";

Deno.test("diffLines() shows removals before additions around kept lines", () => {
  assert.deepEqual(diffLines("a\nb\nc", "a\nx\ny\nc"), [
    { op: " ", text: "a" },
    { op: "-", text: "b" },
    { op: "+", text: "x" },
    { op: "+", text: "y" },
    { op: " ", text: "c" },
  ]);
});

Deno.test("diffLines() of a new file is all additions", () => {
  assert.deepEqual(diffLines("", "one\ntwo"), [{ op: "+", text: "one" }, { op: "+", text: "two" }]);
});

Deno.test("diffLines() finds moved-around common lines", () => {
  const ops = diffLines("1\n2\n3\n4", "1\n3\n4\n5").map((l) => l.op + l.text).join(",");
  assert.equal(ops, " 1,-2, 3, 4,+5");
});

Deno.test("diffLines() degrades to remove-all/add-all past the size limit", () => {
  const a = Array.from({ length: 50 }, (_, i) => `a${i}`).join("\n");
  const b = Array.from({ length: 50 }, (_, i) => `b${i}`).join("\n");
  const out = diffLines(a, b, 100);
  assert.equal(out.filter((l) => l.op === "-").length, 50);
  assert.equal(out.filter((l) => l.op === "+").length, 50);
  assert.equal(out[0]!.op, "-");
});
