import assert from "node:assert/strict";
import { parseToml, stringifyToml } from "./toml.ts";

Deno.test("parseToml() reads tables, arrays of tables, strings, numbers, booleans and arrays", () => {
  const t = parseToml(`# comment
name = "a \\"b\\" \\u00e9" # trailing
n = 1_000
f = 1.5
ok = true
list = ["x", "y"]

[health]
path = "/health"

[[env]]
name = "A"
[[env]]
name = "B"
`);
  assert.deepEqual(t, {
    name: 'a "b" é',
    n: 1000,
    f: 1.5,
    ok: true,
    list: ["x", "y"],
    health: { path: "/health" },
    env: [{ name: "A" }, { name: "B" }],
  });
});

Deno.test("parseToml() rejects duplicates and garbage, and never touches prototypes", () => {
  assert.throws(() => parseToml('a = "1"\na = "2"'), SyntaxError);
  assert.throws(() => parseToml("a = nope"), SyntaxError);
  assert.throws(() => parseToml('a = "open'), SyntaxError);
  const p = parseToml("__proto__ = 1\n");
  assert.ok(Object.hasOwn(p, "__proto__"));
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  const t = parseToml("[constructor]\nx = 1\n");
  assert.deepEqual(Object.keys(t), ["constructor"]);
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

Deno.test("stringifyToml() output parses back to the same value", () => {
  const value = {
    name: "x\ny",
    count: 3,
    tags: ["a", "b"],
    paths: { db: "/d" },
    sockets: [{ name: "rpc", path: "/s" }],
  };
  assert.deepEqual(parseToml(stringifyToml(value)), value);
});

Deno.test("parseToml(): the subset, and errors that name the line", () => {
  const t = parseToml(
    'a = "x" # c\nb = [1, true, "y"]\n[t]\nk = 2\n[[arr]]\nn = "1"\n[[arr]]\nn = "2"\n',
  );
  assert.deepEqual(JSON.parse(JSON.stringify(t)), {
    a: "x",
    b: [1, true, "y"],
    t: { k: 2 },
    arr: [{ n: "1" }, { n: "2" }],
  });
  assert.throws(() => parseToml("a = 1\na = 2"), /line 2: duplicate key/);
  assert.throws(() => parseToml('a = "x'), /line 1: unterminated string/);
  assert.throws(() => parseToml("__proto__ = 1\nconstructor = 2\n[x]]"), SyntaxError);
  assert.equal(stringifyToml({ a: 'q"', t: { b: 1 } }), 'a = "q\\""\n\n[t]\nb = 1\n');
});
