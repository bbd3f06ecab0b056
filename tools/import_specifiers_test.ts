import assert from "node:assert/strict";
import { findImports } from "./import_specifiers.ts";

const specs = (src: string) => findImports(src).map((s) => [s.specifier, s.line]);

Deno.test("findImports(): every declaration form, with the specifier's line", () => {
  const src = [
    'import "./side.ts";', // 1
    'import a from "./a.ts";',
    'import b, { c } from "./b.ts";',
    'import * as d from "./d.ts";',
    'import type { E } from "./e.ts";', // 5
    "import {",
    "  f,",
    '} from "./f.ts";',
    'export * from "./g.ts";',
    'export * as h from "./h.ts";', // 10
    'export { i } from "./i.ts";',
    'export type { J } from "./j.ts";',
    'import text from "./k.txt" with { type: "text" };',
    "export const l = 1;",
    "export { l as m };", // 15
    "export default l;",
    "import n",
    'from "./n.ts"',
  ].join("\n");
  assert.deepEqual(specs(src), [
    ["./side.ts", 1],
    ["./a.ts", 2],
    ["./b.ts", 3],
    ["./d.ts", 4],
    ["./e.ts", 5],
    ["./f.ts", 8],
    ["./g.ts", 9],
    ["./h.ts", 10],
    ["./i.ts", 11],
    ["./j.ts", 12],
    ["./k.txt", 13],
    ["./n.ts", 18],
  ]);
  const types = findImports(src).filter((s) => s.typeOnly).map((s) => s.specifier);
  assert.deepEqual(types, ["./e.ts", "./j.ts"]);
});

Deno.test("findImports(): import() with a literal, in code and in types; not computed ones", () => {
  const src = [
    'const a = await import("./a.ts");',
    "const b = await import(`./b.ts`);",
    'type C = typeof import("./c.ts");',
    'type D = import("./d.ts").D;',
    "const e = await import(`./${name}.ts`);",
    "const f = await import(name);",
    'const g = import.meta.resolve("./g.ts");',
    'const h = loader.import("./h.ts");',
    'const i = await import("./i.ts", { with: { type: "json" } });',
  ].join("\n");
  assert.deepEqual(specs(src), [["./a.ts", 1], ["./b.ts", 2], ["./c.ts", 3], ["./d.ts", 4], [
    "./i.ts",
    9,
  ]]);
  assert.ok(findImports(src).every((s) => s.dynamic));
});

Deno.test("findImports(): nothing inside strings, templates, comments or regexps; lines stay right", () => {
  const src = [
    '// import a from "./no1.ts";',
    "/* import b from './no2.ts'",
    "   export * from './no3.ts' */",
    "const s = 'import c from \"./no4.ts\"';",
    'const t = `line\nimport("./no5.ts")\n${`inner ${"import(\\"./no6.ts\\")"}`} ${{ a: 1 }.a}`;',
    'const r = /import\\("\\.\\/no7.ts"\\)/g, q = 4 / 2 / 1;',
    "const u = x.import, v = { import: 1, from: 2 };",
    'import real from "./yes.ts";',
  ].join("\n");
  assert.deepEqual(specs(src), [["./yes.ts", 10]]);
});
