import assert from "node:assert/strict";
import { SentenceSplitter, speakable } from "./sentences.ts";

Deno.test("SentenceSplitter hands out sentences as soon as they are complete", () => {
  const s = new SentenceSplitter();
  assert.deepEqual(s.push("First one. Sec"), ["First one."]);
  assert.deepEqual(s.push("ond! Third?"), ["Second!"]);
  assert.deepEqual(s.push(" And"), ["Third?"]);
  assert.deepEqual(s.flush(), ["And"]);
  assert.deepEqual(s.flush(), []);
});

Deno.test("SentenceSplitter treats paragraphs and list items as boundaries; 3.5 stays whole", () => {
  const s = new SentenceSplitter();
  assert.deepEqual(s.push("Version 3.5 is out\n\nNext:\n- one\n- two"), [
    "Version 3.5 is out",
    "Next:",
    "one",
  ]);
  assert.deepEqual(s.flush(), ["two"]);
});

Deno.test("speakable() reads markdown as plain text", () => {
  assert.equal(
    speakable("## Title\n**Bold** and `code` and [a link](http://x) ```\nfn()\n```done"),
    "Title Bold and code and a link done",
  );
});
