/** `search` and the doctor's search-index lines against a real in-process daemon. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fakePrompt } from "@hero/core/testing";
import { startInProcess, tempEnv, waitFor } from "@hero/server/testing/daemon";
import { createContext, memoryOutput } from "../context.ts";
import { main } from "../main.ts";
import { checkDatabase } from "./doctor.ts";

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

Deno.test("doctor: a damaged search index is its own failure with a rebuild fix; --rebuild-search repairs it", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  await d.client.agent.create({
    prompt: fakePrompt({ auto: true, steps: [{ text: "an axolotl regrows" }] }),
    cwd: t.work,
    name: "lab",
  });
  const before = await waitFor("indexed", async () => {
    const p = await d.client.search.query({ q: "axolotl" });
    return p.hits.length >= 2 ? p : undefined;
  });
  const ctx = createContext({ env: t.env, stdout: memoryOutput(), stderr: memoryOutput() });
  assert.ok(!checkDatabase(ctx).some((k) => k.id === "search_index"));

  // Damage the index behind the daemon's back (defensive mode off only in this connection).
  const raw = new DatabaseSync(
    d.daemon.engine.paths.dbPath,
    {
      defensive: false,
    } as ConstructorParameters<typeof DatabaseSync>[1],
  );
  raw.exec("UPDATE search_fts_data SET block = zeroblob(length(block)) WHERE id > 10");
  raw.close();
  const damaged = checkDatabase(ctx);
  assert.equal(damaged[0]!.id, "search_index");
  assert.equal(damaged[0]!.status, "fail");
  assert.match(damaged[0]!.fix!, /`npx -y deno@2\.9\.6 task cli doctor --rebuild-search`/);
  assert.equal(damaged.find((k) => k.id === "db")!.status, "ok", "the rest of the file is fine");

  const rebuilt = await cli(t.env, ["doctor", "--rebuild-search"]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.match(
    rebuilt.stdout,
    /rebuilding in the background .*\(progress: `npx -y deno@2\.9\.6 task cli doctor`\)/,
  );
  await waitFor("rebuilt", async () => (await d.client.search.status({})).ready || undefined);
  assert.ok(!checkDatabase(ctx).some((k) => k.id === "search_index"));
  const after = await d.client.search.query({ q: "axolotl" });
  assert.deepEqual(
    after.hits.map((h) => [h.agent_id, h.seq]),
    before.hits.map((h) => [h.agent_id, h.seq]),
  );
});
