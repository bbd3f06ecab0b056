/**
 * The admin bundle: `deno bundle` output with code splitting, one copy of Preact, no CDN, no zod,
 * and browser sources that import nothing of ours but the SDK (which carries no zod) and never
 * write HTML.
 */
import assert from "node:assert/strict";
import { countPreactCopies, PREACT_MARKER } from "@hero/tools/build_admin";
import { tempDist } from "./testing/harness.ts";

async function files(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${rel}`)) {
    if (e.isDirectory) out.push(...await files(dir, `${rel}${e.name}/`));
    else out.push(`${rel}${e.name}`);
  }
  return out.sort();
}

Deno.test("build: boot.js, one file per island, shared chunks, css and icon", async () => {
  const dist = (await tempDist()).pathname;
  const names = await files(dist);
  for (
    const expected of [
      "boot.js",
      "app.css",
      "favicon.svg",
      "islands/agent.js",
      "islands/dashboard.js",
      "islands/new_agent.js",
      "islands/topbar.js",
    ]
  ) assert.ok(names.includes(expected), `${expected} in ${names.join(", ")}`);
  assert.ok(
    names.some((n) => /^chunk-[A-Z0-9]+\.js$/.test(n)),
    "code splitting made shared chunks",
  );
  const boot = await Deno.readTextFile(`${dist}/boot.js`);
  assert.ok(boot.length < 2048, `boot.js is ${boot.length} bytes`);
  assert.ok(!boot.includes(PREACT_MARKER), "boot.js does not carry Preact");
});

Deno.test("build: exactly one copy of Preact across all of dist", async () => {
  const dist = (await tempDist()).pathname;
  assert.equal(await countPreactCopies(dist), 1);
  // the detector does count copies
  const tmp = await Deno.makeTempDir();
  try {
    const chunk = (await files(dist)).find((n) =>
      n.endsWith(".js") && Deno.readTextFileSync(`${dist}/${n}`).includes(PREACT_MARKER)
    )!;
    const text = await Deno.readTextFile(`${dist}/${chunk}`);
    await Deno.writeTextFile(`${tmp}/a.js`, text);
    await Deno.writeTextFile(`${tmp}/b.js`, text);
    assert.equal(await countPreactCopies(tmp), 2);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("build: nothing is loaded from elsewhere, no zod in the browser", async () => {
  const dist = (await tempDist()).pathname;
  let total = 0;
  for (const name of await files(dist)) {
    const text = await Deno.readTextFile(`${dist}/${name}`);
    total += text.length;
    if (!name.endsWith(".js") && !name.endsWith(".css")) continue;
    assert.doesNotMatch(text, /(from|import)\s*\(?\s*["'](https?:)?\/\//, `${name} imports a URL`);
    assert.doesNotMatch(text, /url\(\s*["']?(https?:)?\/\//, `${name} loads a remote url()`);
    assert.doesNotMatch(text, /@import/, `${name} uses @import`);
    assert.ok(!text.includes("ZodError") && !text.includes("$ZodType"), `${name} carries zod`);
  }
  assert.ok(total < 250_000, `dist is ${total} bytes`);
});

const WEB = new URL("./web/", import.meta.url).pathname;

async function sources(dir = WEB): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory && e.name !== "static") out.push(...await sources(`${path}/`));
    else if (/\.tsx?$/.test(e.name) && !/_test\.tsx?$/.test(e.name)) out.push(path);
  }
  return out;
}

Deno.test("browser sources: the SDK, preact and signals, nothing else", async () => {
  // The SDK is portable (no Deno.*, no node:, no zod): its client, enum arrays and transcript
  // parser run in the browser; "no zod in the browser" above checks the bundle itself.
  const allowed = new Set(["preact", "preact/hooks", "@preact/signals", "@hero/sdk"]);
  for (const path of await sources()) {
    const text = await Deno.readTextFile(path);
    for (const m of text.matchAll(/^import\s+[^;]*?from\s+"([^"]+)";/gms)) {
      const spec = m[1];
      if (spec!.startsWith(".")) {
        assert.ok(!spec!.includes("../../"), `${path}: ${spec} leaves admin/web`);
        continue;
      }
      assert.ok(allowed.has(spec!), `${path}: imports ${spec}`);
    }
  }
});

Deno.test("browser sources: agent data never becomes HTML or code", async () => {
  const banned = [
    /dangerouslySetInnerHTML/,
    /\.innerHTML\b/,
    /\.outerHTML\b/,
    /insertAdjacentHTML/,
    /document\.write/,
    /\beval\(/,
    /new Function\(/,
    /\.setAttribute\(\s*["']on/,
    /\.setAttribute\(\s*["']style/,
    /\bstyle=\{?["'`]/,
  ];
  for (const path of await sources()) {
    const text = await Deno.readTextFile(path);
    for (const re of banned) assert.doesNotMatch(text, re, `${path} uses ${re}`);
  }
});
