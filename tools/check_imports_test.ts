/**
 * The import-direction check as CI runs it (a child `deno run --allow-read`), on temp trees with
 * one planted bad import per rule, on a clean tree, and on this repository.
 */
import assert from "node:assert/strict";
import { enforcedRules, PENDING_RULES, RULES } from "./check_imports.ts";

const TOOL = new URL("./check_imports.ts", import.meta.url).pathname;
const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const MEMBERS: Record<string, { name: string; exports: Record<string, string> }> = {
  core: {
    name: "@hero/core",
    exports: {
      "./models": "./models/mod.ts",
      "./shadow": "./shadow/mod.ts",
      "./supervisor": "./supervisor/mod.ts",
    },
  },
  server: { name: "@hero/server", exports: { ".": "./mod.ts" } },
  admin: { name: "@hero/admin", exports: { ".": "./main.ts" } },
  "admin/web": { name: "@hero/admin-web", exports: {} },
  cli: { name: "@hero/cli", exports: {} },
  service: { name: "@hero/service", exports: { "./log": "./log.ts" } },
  sdk: { name: "@hero/sdk", exports: { ".": "./mod.ts" } },
  tools: { name: "@hero/tools", exports: {} },
};

/** Every member importing what the architecture allows, plus text that only looks like imports. */
const CLEAN: Record<string, string> = {
  "core/models/mod.ts":
    'import { z } from "zod";\nimport type { Log } from "@hero/service/log";\n' +
    "export const a = 1;\n",
  "core/shadow/mod.ts": 'import { a } from "../models/mod.ts";\nexport const s = a;\n',
  "core/supervisor/mod.ts": 'export { a } from "../models/mod.ts";\n',
  "server/mod.ts": 'import { a } from "@hero/core/models";\n' +
    'export const sup = () => import("@hero/core/supervisor");\n',
  "admin/main.ts": 'import "@hero/server";\nimport { createLogger } from "@hero/service/log";\n',
  "admin/web/app.tsx":
    'import type { Agent } from "@hero/sdk";\nimport { createClient } from "@hero/sdk";\n' +
    'import { h } from "preact";\nimport { x } from "./lib.ts";\n' +
    'export const v = <p>Don\'t import from "../../server/mod.ts" here</p>;\n',
  "admin/web/lib.ts": "export const x = 1;\n",
  "cli/main.ts": 'import * as sdk from "@hero/sdk";\nimport { parseArgs } from "node:util";\n',
  "service/log.ts": 'import { writeSync } from "node:fs";\nexport type Log = () => void;\n',
  "sdk/mod.ts": 'export * from "./client.ts";\n',
  "sdk/client.ts": "export function createClient() {}\n",
  "tools/gen.ts": 'import { a } from "@hero/core/models";\nimport { v } from "@hero/server";\n',
  "bench/run.ts": 'import { a } from "@hero/core/models";\n',
  // The root package has no name: members reach it by path.
  "tools/bench.ts":
    'import "../bench/run.ts";\nimport config from "../deno.json" with { type: "json" };\n',
  "core/models/strings.ts": [
    '// import { x } from "../../server/mod.ts";',
    "/* export * from '../../server/mod.ts' */",
    "const s = 'import { x } from \"../../server/mod.ts\"';",
    'const t = `${s} import("../../server/mod.ts") ${`nested ${"x"}`}`;',
    'const r = /import("..\\/..\\/server\\/mod.ts")/;',
    "export const o = { import: 1, from: s + t + r };",
  ].join("\n"),
  // Excluded by the root deno.json: never read.
  "dist/bundle.js": 'import "../server/mod.ts";\nimport "@hero/nope";\n',
};

async function tree(extra: Record<string, string> = {}): Promise<string & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "hero_imports_" });
  const write = async (path: string, text: string) => {
    await Deno.mkdir(`${root}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  };
  await write(
    "deno.json",
    JSON.stringify({
      workspace: Object.keys(MEMBERS).map((d) => `./${d}`),
      imports: { zod: "npm:zod@4", preact: "npm:preact@10" },
      exclude: ["dist"],
    }),
  );
  for (const [dir, m] of Object.entries(MEMBERS)) {
    await write(`${dir}/deno.json`, JSON.stringify({ name: m.name, exports: m.exports }));
  }
  for (const [path, text] of Object.entries({ ...CLEAN, ...extra })) await write(path, text);
  return Object.assign(root, {
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  }) as unknown as string & AsyncDisposable;
}

async function check(root: string, ...flags: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", TOOL, ...flags, root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** The violation lines (`path:line: [rule] …`) of a report. */
function violations(stderr: string): string[] {
  return stderr.split("\n").filter((l) => /^\S+:\d+: \[/.test(l));
}

Deno.test("check:imports passes on a clean tree; strings, comments, regexps and dist/ do not count", async () => {
  await using root = await tree();
  const r = await check(root);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /check:imports: 15 files, \d+ imports of ours, 0 violations/);
  const all = await check(root, "--all");
  assert.equal(all.code, 0, all.stderr);
});

const PLANTED: Array<{ rule: string; path: string; text: string; line: number }> = [
  {
    rule: "core-imports-no-app",
    path: "core/models/bad.ts",
    text: '// fine\nimport { a } from "./mod.ts";\nimport { app } from "@hero/server";\n',
    line: 3,
  },
  {
    rule: "core-imports-no-app",
    path: "core/shadow/bad.ts",
    text: 'export const f = () =>\n  import("@hero/admin");\n',
    line: 2,
  },
  {
    rule: "sdk-imports-nothing-ours",
    path: "sdk/bad.ts",
    text: 'import type { A } from "@hero/core/models";\n',
    line: 1,
  },
  {
    rule: "admin-web-imports-only-sdk",
    path: "admin/web/bad.tsx",
    text: 'import { h } from "preact";\nconst log = await import("@hero/service/log");\n',
    line: 2,
  },
  {
    rule: "admin-web-imports-only-sdk",
    path: "admin/web/bad_type.ts",
    text: 'import type {\n  Agent,\n} from "@hero/core/models";\n',
    line: 3,
  },
  {
    rule: "service-imports-nothing-ours",
    path: "service/bad.ts",
    text: 'export { a } from "@hero/core/models";\n',
    line: 1,
  },
  {
    rule: "cross-member-by-name",
    path: "server/bad.ts",
    text: '\n\nimport { a } from "../core/models/mod.ts";\n',
    line: 3,
  },
  {
    rule: "cross-member-by-name",
    path: "bench/bad.ts",
    text: 'export * as m from "../core/models/mod.ts";\n',
    line: 1,
  },
  {
    rule: "supervisor-imports-no-shadow-proxy",
    path: "core/supervisor/bad.ts",
    text: 'import { s } from "../shadow/mod.ts";\n',
    line: 1,
  },
  {
    rule: "supervisor-imports-no-shadow-proxy",
    path: "core/supervisor/bad_name.ts",
    text: 'type S = typeof import("@hero/core/shadow");\n',
    line: 1,
  },
  {
    rule: "shadow-proxy-imports-no-supervisor",
    path: "core/shadow/bad.ts",
    text: 'import type { S } from "../supervisor/mod.ts";\n',
    line: 1,
  },
  {
    rule: "unresolved-workspace-import",
    path: "cli/bad.ts",
    text: 'import "@hero/core/nope";\n',
    line: 1,
  },
];

for (const p of PLANTED) {
  Deno.test(`check:imports fails on a planted ${p.rule} import, naming the file, line and rule (${p.path})`, async () => {
    await using root = await tree({ [p.path]: p.text });
    const pending = PENDING_RULES.includes(p.rule);
    const r = pending ? await check(root, "--rule", p.rule) : await check(root);
    assert.equal(r.code, 1, r.stdout);
    assert.deepEqual(violations(r.stderr).map((l) => l.split(" ").slice(0, 2).join(" ")), [
      `${p.path}:${p.line}: [${p.rule}]`,
    ]);
    assert.match(r.stderr, /check:imports: \d+ files, \d+ imports of ours, 1 violations/);
    if (pending) {
      const off = await check(root);
      assert.equal(off.code, 0, `pending rule ${p.rule} is not enforced by default: ${off.stderr}`);
      assert.match(off.stdout, new RegExp(`not checked: .*${p.rule}`));
    }
  });
}

Deno.test("every rule has a planted import above, and every pending rule exists", () => {
  const planted = new Set(PLANTED.map((p) => p.rule));
  for (const r of RULES) assert.ok(planted.has(r.id), `no planted import for ${r.id}`);
  for (const id of PENDING_RULES) assert.ok(RULES.some((r) => r.id === id), id);
  assert.deepEqual(
    enforcedRules(),
    RULES.map((r) => r.id).filter((id) => !PENDING_RULES.includes(id)),
  );
});

Deno.test("check:imports passes on this repository (rules switched on)", async () => {
  const r = await check(REPO);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /0 violations/);
  for (const id of enforcedRules()) assert.ok(r.stdout.includes(id), `${id} was not checked`);
});
