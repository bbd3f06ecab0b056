import assert from "node:assert/strict";
import { cleanText, lastLine, oneLine, previewLine, safeHref } from "./sanitize.ts";

Deno.test("cleanText() removes ANSI CSI and OSC sequences", () => {
  assert.equal(cleanText("\x1b[31mred\x1b[0m \x1b[2J\x1b[1;1Hcleared"), "red cleared");
  // OSC 8 hyperlink: the text stays, the URL goes
  assert.equal(
    cleanText("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"),
    "click",
  );
  // OSC 52 clipboard write, ST-terminated
  assert.equal(cleanText("a\x1b]52;c;ZXZpbA==\x1b\\b"), "ab");
  // unterminated OSC swallows to the end
  assert.equal(cleanText("a\x1b]0;title"), "a");
  assert.equal(cleanText("a\x9b31mb"), "ab");
});

Deno.test("cleanText() shows other control characters as control pictures", () => {
  assert.equal(cleanText("a\x07b\x00c\x7f"), "a\u2407b\u2400c\u2421");
  assert.equal(cleanText("a\rb"), "a\u240db");
  assert.equal(cleanText("a\r\nb\tc"), "a\nb\tc");
  assert.equal(cleanText("\x85"), "\ufffd");
});

Deno.test("cleanText() makes bidi overrides visible", () => {
  assert.equal(cleanText("\u202eevil\u202c"), "<U+202E>evil<U+202C>");
  assert.equal(cleanText("a\u2066b\u2069\u200f"), "a<U+2066>b<U+2069><U+200F>");
});

Deno.test("oneLine(), lastLine() and previewLine() cut and clean", () => {
  assert.equal(oneLine("first\nsecond"), "first");
  assert.equal(oneLine("x".repeat(10), 5), "xxxx…");
  assert.equal(lastLine("a\n\nlast \n \n"), "last");
  assert.equal(lastLine("\x1b[1mbold\x1b[0m"), "bold");
  assert.equal(previewLine("intro\n- **Done**: `x`"), "Done: x");
});

Deno.test("safeHref() allows absolute http(s) and mailto only", () => {
  assert.equal(safeHref("https://example.com/a b"), null);
  assert.equal(safeHref("https://example.com/a"), "https://example.com/a");
  assert.equal(safeHref("HTTP://EXAMPLE.com"), "http://example.com/");
  assert.equal(safeHref("mailto:x@y.z"), "mailto:x@y.z");
  for (
    const bad of [
      "javascript:alert(1)",
      " javascript:1",
      "data:text/html,x",
      "/x",
      "//evil.example",
      "ftp://x",
      "https://x/\u0000",
      'https://x/"onmouseover=1',
    ]
  ) {
    assert.equal(safeHref(bad), null, bad);
  }
});
