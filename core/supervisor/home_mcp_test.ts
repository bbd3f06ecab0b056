import assert from "node:assert/strict";
import { resolveHomeMcpSettings } from "../config/mod.ts";
import { homeMcpConfig, removeAgentState, writeMcpConfig } from "./home_mcp.ts";

Deno.test("homeMcpConfig() names one HTTP server at the gateway, with the context header when given", () => {
  const settings = resolveHomeMcpSettings({ HERO_ROUTER_URL: "http://127.0.0.1:1234" });
  assert.deepEqual(homeMcpConfig(settings, "hero_books", "ctx 1"), {
    mcpServers: {
      hero_books: {
        type: "http",
        url: "http://127.0.0.1:1234/mcp/hero_books",
        headers: { "X-Hero-Context": "ctx 1" },
      },
    },
  });
  assert.deepEqual(homeMcpConfig(settings, "hero_books", null), {
    mcpServers: { hero_books: { type: "http", url: "http://127.0.0.1:1234/mcp/hero_books" } },
  });
});

Deno.test("writeMcpConfig() writes 0600 in a 0700 per-agent directory, replacing an older file", async () => {
  const root = await Deno.makeTempDir();
  const umask = Deno.umask(0o000);
  try {
    const stateDir = `${root}/state/agents`;
    const config = homeMcpConfig(resolveHomeMcpSettings({}), "hero_books", "c");
    const path = writeMcpConfig(stateDir, "agent-1", config);
    assert.equal(path, `${stateDir}/agent-1/mcp.json`);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), config);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${stateDir}/agent-1`)).mode! & 0o777, 0o700);
    await Deno.chmod(path, 0o644);
    writeMcpConfig(stateDir, "agent-1", homeMcpConfig(resolveHomeMcpSettings({}), "hero_x", null));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.ok(JSON.parse(await Deno.readTextFile(path)).mcpServers.hero_x);
    assert.deepEqual([...Deno.readDirSync(`${stateDir}/agent-1`)].map((e) => e.name), [
      "mcp.json",
    ]);
    assert.throws(() => writeMcpConfig(stateDir, "../x", config), /not a valid id/);
    removeAgentState(stateDir, "agent-1");
    removeAgentState(stateDir, "agent-1");
    await assert.rejects(() => Deno.stat(`${stateDir}/agent-1`), Deno.errors.NotFound);
  } finally {
    Deno.umask(umask);
    await Deno.remove(root, { recursive: true });
  }
});
