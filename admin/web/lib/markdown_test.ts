import assert from "node:assert/strict";
import { type Block, type Inline, parseInline, parseMarkdown } from "./markdown.ts";

function walk(
  nodes: Array<Block | Inline>,
  out: Array<Block | Inline> = [],
): Array<Block | Inline> {
  for (const n of nodes) {
    out.push(n);
    if ("c" in n && Array.isArray(n.c)) walk(n.c as Array<Block | Inline>, out);
    if (n.t === "list") { for (const item of n.items) walk(item, out); }
    if (n.t === "table") {
      for (const cell of n.head) walk(cell, out);
      for (const row of n.rows) for (const cell of row) walk(cell, out);
    }
  }
  return out;
}

function text(nodes: Array<Block | Inline>): string {
  return walk(nodes).map((n) => (n.t === "text" || n.t === "code" || n.t === "pre" ? n.v : ""))
    .join("");
}

Deno.test("parseMarkdown(): raw HTML stays literal text", () => {
  const blocks = parseMarkdown('<img src=x onerror="alert(1)"> <script>alert(2)</script>');
  assert.deepEqual(blocks, [{
    t: "p",
    c: [{ t: "text", v: '<img src=x onerror="alert(1)"> <script>alert(2)</script>' }],
  }]);
});

Deno.test("parseMarkdown(): only http(s) and mailto links get an href", () => {
  const links = walk(parseMarkdown(
    "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](data:text/html,x) [d](vbscript:x) " +
      "[e](/relative) [f](https://example.com/x?y=1) [g](mailto:a@b.c) [h]( javascript:alert(1))",
  )).filter((n) => n.t === "link");
  assert.deepEqual(links.map((l) => l.t === "link" && l.href), [
    null,
    null,
    null,
    null,
    null,
    "https://example.com/x?y=1",
    "mailto:a@b.c",
    null,
  ]);
});

Deno.test("parseMarkdown(): images never become loadable elements", () => {
  const nodes = walk(
    parseMarkdown("![beacon](https://evil.example/p.png?secret=1) ![x](javascript:1)"),
  );
  const images = nodes.filter((n) => n.t === "image");
  assert.equal(images.length, 2);
  assert.equal(images[0]!.t === "image" && images[0]!.alt, "beacon");
  assert.equal(images[1]!.t === "image" && images[1]!.href, null);
});

Deno.test("parseMarkdown(): headings, emphasis, code, lists, quotes, tables, rules", () => {
  const md = [
    "# Title",
    "",
    "Some **bold**, *em*, ~~gone~~ and `code`.",
    "",
    "```ts",
    "const x = 1 < 2;",
    "```",
    "",
    "- one",
    "- two",
    "  - nested",
    "",
    "1. first",
    "2. second",
    "",
    "> quoted",
    "",
    "| a | b |",
    "|---|--:|",
    "| 1 | 2 |",
    "",
    "---",
  ].join("\n");
  const blocks = parseMarkdown(md);
  assert.deepEqual(blocks.map((b) => b.t), [
    "h",
    "p",
    "pre",
    "list",
    "list",
    "quote",
    "table",
    "hr",
  ]);
  const p = blocks[1]!;
  assert.ok(p.t === "p");
  assert.deepEqual(p.c.map((n) => n.t), [
    "text",
    "strong",
    "text",
    "em",
    "text",
    "del",
    "text",
    "code",
    "text",
  ]);
  const pre = blocks[2]!;
  assert.ok(pre.t === "pre" && pre.lang === "ts" && pre.v === "const x = 1 < 2;");
  const ul = blocks[3]!;
  assert.ok(ul.t === "list" && !ul.ordered && ul.items.length === 2);
  assert.equal(ul.items[1]![1]!.t, "list");
  const ol = blocks[4]!;
  assert.ok(ol.t === "list" && ol.ordered && ol.start === 1 && ol.items.length === 2);
  const table = blocks[6]!;
  assert.ok(table.t === "table");
  assert.deepEqual(table.align, [null, "right"]);
  assert.equal(table.rows.length, 1);
});

Deno.test("parseMarkdown(): snake_case and lone stars are not emphasis", () => {
  assert.equal(
    text(parseMarkdown("call my_long_function_name and 2 * 3 * 4")),
    "call my_long_function_name and 2 * 3 * 4",
  );
  const nodes = walk(parseMarkdown("my_long_function_name"));
  assert.ok(!nodes.some((n) => n.t === "em"));
});

Deno.test("parseMarkdown(): bare URLs and autolinks, trailing punctuation left out", () => {
  const links = walk(parseMarkdown("See https://example.com/a. Or <https://example.org/b>!"))
    .filter((n) => n.t === "link");
  assert.deepEqual(links.map((l) => l.t === "link" && l.href), [
    "https://example.com/a",
    "https://example.org/b",
  ]);
});

Deno.test("parseMarkdown(): line breaks inside a paragraph are kept", () => {
  const [p] = parseMarkdown("line one\nline two");
  assert.ok(p!.t === "p");
  assert.deepEqual(p!.c.map((n) => n.t), ["text", "br", "text"]);
});

Deno.test("parseMarkdown(): an unclosed fence runs to the end", () => {
  const blocks = parseMarkdown("```\ncode\nmore");
  assert.deepEqual(blocks, [{ t: "pre", lang: "", v: "code\nmore" }]);
});

Deno.test("parseMarkdown(): pathological input stays linear (no backtracking blow-up)", () => {
  const inputs = [
    "*a ".repeat(20_000),
    "_".repeat(50_000),
    "[".repeat(20_000),
    "`".repeat(20_000),
    "> ".repeat(5_000) + "deep",
    "- ".repeat(5_000) + "deep",
    "**a".repeat(10_000),
    "![".repeat(10_000),
  ];
  // Each input against ordinary prose of the same length, best of three each: a loaded machine
  // slows both alike, while quadratic work on 10k–50k characters is thousands of times slower.
  const best = (text: string) => {
    let min = Infinity;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      parseMarkdown(text);
      min = Math.min(min, performance.now() - started);
    }
    return min;
  };
  for (const input of inputs) {
    const prose = "Plain words, a comma. ".repeat(Math.ceil(input.length / 22)).slice(
      0,
      input.length,
    );
    const baseline = Math.max(best(prose), 1);
    const ms = best(input);
    assert.ok(
      ms <= 100 * baseline,
      `${JSON.stringify(input.slice(0, 10))}… took ${ms.toFixed(1)} ms, prose ${
        baseline.toFixed(1)
      } ms`,
    );
  }
});

Deno.test("parseInline(): escapes and code spans", () => {
  assert.deepEqual(parseInline("\\*not em\\*"), [{ t: "text", v: "*not em*" }]);
  assert.deepEqual(parseInline("`` a ` b ``"), [{ t: "code", v: "a ` b" }]);
});
