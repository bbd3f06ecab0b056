/** `search` against a real in-process daemon: grouped output, --json, --cwd, bad syntax. */
import assert from "node:assert/strict";
import { fakePrompt } from "../../core/testing/mod.ts";
import { startInProcess, tempEnv, waitFor } from "../../server/testing/daemon.ts";
import { createContext, memoryOutput } from "../context.ts";
import { main } from "../main.ts";

async function cli(env: Record<string, string>, args: string[]) {
  const stdout = memoryOutput(false);
  const stderr = memoryOutput(false);
  const code = await main(args, createContext({ env, stdout, stderr }));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

Deno.test("search prints hits grouped by agent, --json pages, --cwd filters, bad syntax exits 1", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  const agent = await d.client.agent.create({
    prompt: fakePrompt({ auto: true, steps: [{ text: "the capybara wrote \x1b[31mred\x1b[0m" }] }),
    cwd: t.work,
    name: "rodent",
  });
  await waitFor("indexed", async () => {
    const p = await d.client.search.query({ q: "capybara" });
    return p.hits.length >= 2 ? p : undefined;
  });

  const text = await cli(t.env, ["search", "capybara"]);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trimEnd().split("\n");
  // One group header for the agent, then its hits (answer and prompt), then the total.
  assert.match(lines[0]!, new RegExp(`^${agent.id}  rodent  `));
  assert.match(lines[1]!, /^ {2}#\d+ .* assistant +the capybara wrote/);
  assert.match(lines[2]!, /prompt/);
  assert.equal(lines.at(-1), "2 matches");
  assert.ok(!text.stdout.includes("\x1b"), "escape sequences from lines never reach the terminal");

  const json = await cli(t.env, ["search", "--json", "--limit", "1", "capybara"]);
  assert.equal(json.code, 0);
  const page = JSON.parse(json.stdout);
  assert.equal(page.hits.length, 1);
  assert.equal(page.hits[0].agent_id, agent.id);
  assert.equal(page.total, 2);
  assert.ok(page.next_cursor);

  const elsewhere = await cli(t.env, ["search", "--cwd", "/nowhere", "capybara"]);
  assert.equal(elsewhere.stdout, "no matches\n");

  const bad = await cli(t.env, ["search", '"capybara']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Cannot search: a quote/);

  assert.equal((await cli(t.env, ["search"])).code, 2);
  assert.equal((await cli(t.env, ["search", "--limit", "500", "x"])).code, 2);
});
