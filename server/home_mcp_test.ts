/**
 * `agent.create {home_mcp}` through the daemon (fake claude): validation, the per-agent MCP config
 * handed to claude with the request's X-Hero-Context, the per-service default cwd, voice turns.
 */
import assert from "node:assert/strict";
import { fakePrompt } from "@hero/core/testing";
import type { Agent } from "@hero/sdk";
import { unixFetch } from "./testing/unix_fetch.ts";
import { createClient } from "@hero/sdk";
import { type InProcess, spawnDaemon, startInProcess, tempEnv, waitFor } from "./testing/daemon.ts";

async function rpc(
  d: InProcess,
  method: string,
  params: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ result?: Agent; error?: { code: number; message: string; data: { code: string } } }> {
  const r = await d.fetch("http://localhost/rpc", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return await r.json();
}

interface Recorded {
  argv: string[];
  cwd: string;
}

async function settled(d: InProcess, id: string): Promise<Agent> {
  return await waitFor(`agent ${id} to finish its turn`, async () => {
    const a = await d.client.agent.get({ id });
    return a.status === "awaiting_review" || a.status === "failed" ? a : undefined;
  });
}

function flagValue(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] : undefined;
}

Deno.test("agent.create with home_mcp gives claude the router MCP config with the caller's X-Hero-Context", async () => {
  await using t = await tempEnv();
  const booksCwd = `${t.work}/books`;
  await Deno.mkdir(booksCwd);
  const env = {
    ...t.env,
    HERO_ROUTER_URL: "http://127.0.0.1:4567",
    HERO_ORCHESTRATOR_HOME_CWDS: `hero_books=${booksCwd}`,
    HERO_ORCHESTRATOR_HOME_DEFAULT_CWD: t.work,
  };
  await using d = await startInProcess(env);
  const record = `${booksCwd}/record.json`; // the cwd: shared with the sandbox

  const created = await rpc(d, "agent.create", {
    prompt: fakePrompt({ auto: true, steps: [{ record }, { text: "hi" }] }),
    home_mcp: "hero_books",
    voice: true,
  }, { "x-hero-context": "ctx-books-1" });
  assert.ok(created.result, JSON.stringify(created));
  const agent = created.result!;
  assert.equal(agent.home_mcp, "hero_books");
  assert.equal(agent.hero_context, "ctx-books-1");
  assert.equal(agent.cwd, booksCwd, "the per-service default cwd");
  assert.equal((await settled(d, agent.id)).status, "awaiting_review");

  const seen = JSON.parse(await Deno.readTextFile(record)) as Recorded;
  const configPath = flagValue(seen.argv, "--mcp-config")!;
  const stateDir = `${t.env.PATH_VAR}/hero_orchestrator`;
  assert.equal(configPath, `${stateDir}/agents/${agent.id}/mcp.json`);
  assert.equal((await Deno.stat(configPath)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(`${stateDir}/agents/${agent.id}`)).mode! & 0o777, 0o700);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(configPath)), {
    mcpServers: {
      hero_books: {
        type: "http",
        url: "http://127.0.0.1:4567/mcp/hero_books",
        headers: { "X-Hero-Context": "ctx-books-1" },
      },
    },
  });
  assert.match(flagValue(seen.argv, "--append-system-prompt") ?? "", /by voice/);

  // A follow-up (not spoken) gets the config again, without the voice prompt.
  await Deno.remove(record);
  await d.client.agent.followUp({
    id: agent.id,
    prompt: fakePrompt({ auto: true, steps: [{ record }] }),
  });
  await waitFor("the follow-up", async () => {
    const a = await d.client.agent.get({ id: agent.id });
    return a.turn_count === 2 && a.status === "awaiting_review";
  });
  const again = JSON.parse(await Deno.readTextFile(record)) as Recorded;
  assert.equal(flagValue(again.argv, "--mcp-config"), configPath);
  assert.equal(again.argv.indexOf("--append-system-prompt"), -1);

  // Another service falls back to the default cwd; no header → no headers in the config.
  const other = await rpc(d, "agent.create", {
    prompt: fakePrompt({ auto: true, steps: [{ text: "x" }] }),
    home_mcp: "hero_other",
  });
  assert.equal(other.result!.cwd, t.work);
  assert.equal(other.result!.hero_context, null);
  await settled(d, other.result!.id);
  assert.deepEqual(
    JSON.parse(
      await Deno.readTextFile(`${stateDir}/agents/${other.result!.id}/mcp.json`),
    ),
    { mcpServers: { hero_other: { type: "http", url: "http://127.0.0.1:4567/mcp/hero_other" } } },
  );

  // A plain agent has no home MCP and no config.
  const plainRecord = `${t.work}/plain.json`;
  const plain = await d.client.agent.create({
    prompt: fakePrompt({ auto: true, steps: [{ record: plainRecord }] }),
    cwd: t.work,
  });
  await settled(d, plain.id);
  const plainSeen = JSON.parse(await Deno.readTextFile(plainRecord)) as Recorded;
  assert.equal(plainSeen.argv.indexOf("--mcp-config"), -1);
  assert.equal(plain.home_mcp, null);

  // Deleting an agent removes its private state.
  const failing = await rpc(d, "agent.create", {
    prompt: fakePrompt({ auto: true, steps: [{ result: { is_error: true, result: "boom" } }] }),
    home_mcp: "hero_books",
  });
  const failed = await settled(d, failing.result!.id);
  assert.equal(failed.status, "failed");
  await Deno.stat(`${stateDir}/agents/${failed.id}/mcp.json`);
  await d.client.agent.delete({ id: failed.id });
  await assert.rejects(() => Deno.stat(`${stateDir}/agents/${failed.id}`), Deno.errors.NotFound);
});

Deno.test("agent.create refuses an invalid home_mcp, a missing cwd and an oversized X-Hero-Context", async () => {
  await using t = await tempEnv();
  await using d = await startInProcess(t.env);
  for (
    const home_mcp of ["books", "hero-books", "HERO_BOOKS", "hero_", "", `hero_${"a".repeat(64)}`]
  ) {
    const answer = await rpc(d, "agent.create", { prompt: "p", cwd: t.work, home_mcp });
    assert.equal(answer.error?.code, -32007, home_mcp);
    assert.equal(answer.error?.data.code, "invalid_home_mcp");
  }
  const noDefault = await rpc(d, "agent.create", { prompt: "p", home_mcp: "hero_books" });
  assert.equal(noDefault.error?.data.code, "invalid_cwd");
  assert.match(noDefault.error!.message, /no default working directory for hero_books/);
  const noCwd = await rpc(d, "agent.create", { prompt: "p" });
  assert.equal(noCwd.error?.data.code, "invalid_cwd");
  const big = await rpc(d, "agent.create", { prompt: "p", cwd: t.work, home_mcp: "hero_books" }, {
    "x-hero-context": "x".repeat(5000),
  });
  assert.equal(big.error?.code, -32602);
  assert.match(big.error!.message, /X-Hero-Context/);
  assert.equal((await d.client.agent.list({})).agents.length, 0, "nothing was created");
});

Deno.test("under its production permission set the daemon reads HERO_ROUTER_URL and writes the config", async () => {
  await using t = await tempEnv({ HERO_ROUTER_URL: "http://127.0.0.1:4321" });
  await using _d = await spawnDaemon({ ...t.env, HERO_ORCHESTRATOR_HOME_DEFAULT_CWD: t.work });
  const transport = unixFetch(t.socketPath);
  try {
    const client = createClient({ fetch: transport.fetch });
    const agent = await client.agent.create({
      prompt: fakePrompt({ auto: true, steps: [] }),
      home_mcp: "hero_books",
    });
    const done = await waitFor("the turn", async () => {
      const a = await client.agent.get({ id: agent.id });
      return a.status === "awaiting_review" || a.status === "failed" ? a : undefined;
    });
    assert.equal(done.status, "awaiting_review", done.error_message ?? "");
    const config = JSON.parse(
      await Deno.readTextFile(`${t.env.PATH_VAR}/hero_orchestrator/agents/${agent.id}/mcp.json`),
    );
    assert.equal(config.mcpServers.hero_books.url, "http://127.0.0.1:4321/mcp/hero_books");
  } finally {
    transport.close();
  }
});
