/**
 * The README is a newcomer's page: what it is, the two commands, what you see, a first agent,
 * troubleshooting by symptom (every newcomer error code with its fix); its commands work with
 * only `npx -y deno@2.9.6`; the reference lives in `docs/`; no page points outside the repository.
 */
import assert from "node:assert/strict";
import { AgentErrorCode } from "@hero/core/models";

const ROOT = new URL("../", import.meta.url).pathname;
const readme = await Deno.readTextFile(`${ROOT}README.md`);
const docs: Record<string, string> = {};
for (const entry of Deno.readDirSync(`${ROOT}docs`)) {
  if (entry.name.endsWith(".md")) {
    docs[`docs/${entry.name}`] = await Deno.readTextFileSync(`${ROOT}docs/${entry.name}`);
  }
}
const pages: Record<string, string> = { "README.md": readme, ...docs };

function sections(text: string): string[] {
  return [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
}

Deno.test("README: a newcomer's page, in order, with the reference moved to docs/", () => {
  const titles = sections(readme);
  const wanted = [/^Fresh machine/, /^What you see/, /first agent/i, /goes wrong/, /^More$/];
  let at = -1;
  for (const w of wanted) {
    const i = titles.findIndex((t) => w.test(t));
    assert.ok(i > at, `section ${w} missing or out of order in ${titles.join(" | ")}`);
    at = i;
  }
  // The 40-row environment table, permissions and benchmark tables are not on the first page.
  assert.ok(!readme.includes("| `HERO_ORCHESTRATOR_CANCEL_GRACE_MS`"), "the env table is in docs/");
  assert.ok(!/^## (Permissions|Benchmarks|Configuration)/m.test(readme));
  assert.match(docs["docs/configuration.md"]!, /\| `HERO_ORCHESTRATOR_CANCEL_GRACE_MS` /);
  assert.match(docs["docs/configuration.md"]!, /^## Permissions/m);
  assert.match(docs["docs/benchmarks.md"]!, /^## Benchmarks/m);
  assert.ok(readme.split("\n").length < 160, "the first page stays short");
});

Deno.test("README: every command works with only npx -y deno@2.9.6", () => {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 2);
  for (const block of blocks) {
    for (const raw of block.split("\n")) {
      const line = raw.replace(/#.*$/, "").trim();
      if (!line) continue;
      assert.match(line, /^(npx -y deno@2\.9\.6 |npm )/, `not runnable with npx alone: ${line}`);
    }
  }
  // Inline commands in the text and the troubleshooting table too (not in sample output).
  const prose = readme.replace(/```[\s\S]*?```/g, "");
  for (const m of prose.matchAll(/`((?:deno|npx)[^`]*)`/g)) {
    const cmd = m[1]!;
    // The sentence that says how the two forms relate names the two fresh-machine commands.
    if (["deno task …", "deno task start", "deno task test"].includes(cmd)) continue;
    assert.ok(!cmd.startsWith("deno "), `README command needs deno on PATH: ${cmd}`);
  }
});

Deno.test("README: troubleshooting covers every newcomer failure code, each with what to do", () => {
  const table = readme.slice(readme.indexOf("## When something goes wrong"));
  const codes = [...table.matchAll(/\| `([a-z_]+)` +\|/g)].map((m) => m[1]!);
  for (
    const code of [
      "not_logged_in",
      "invalid_api_key",
      "claude_not_found",
      "root_without_sandbox",
      "upstream_unreachable",
      "invalid_cwd",
    ]
  ) {
    assert.ok(codes.includes(code), `${code} is not in the troubleshooting table`);
  }
  for (const code of codes) {
    assert.ok(AgentErrorCode.options.includes(code as AgentErrorCode), `unknown code ${code}`);
  }
});

Deno.test("README and docs/: links resolve inside the repository; no path outside it", async () => {
  for (const [name, text] of Object.entries(pages)) {
    assert.ok(
      !/\.\.\/shared|\/work\/|\/root\//.test(text),
      `${name} names a path outside the repo`,
    );
    const dir = new URL(name.includes("/") ? `${ROOT}docs/` : ROOT, "file://").pathname;
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1]!;
      if (/^https?:/.test(target)) continue;
      const resolved = new URL(target, `file://${dir}`).pathname;
      assert.ok(resolved.startsWith(ROOT), `${name}: ${target} leaves the repository`);
      await Deno.stat(resolved).catch(() => assert.fail(`${name}: ${target} does not exist`));
    }
  }
  // The README links every reference page.
  for (const page of Object.keys(docs)) {
    assert.ok(readme.includes(`](${page})`), `README does not link ${page}`);
  }
});
