/**
 * The real claude CLI reaches the home MCP server of its agent: hero_router's gateway for
 * hero_books is a fake streamable-HTTP MCP server; the mock Anthropic API asks for one of its tools
 * (through ToolSearch, as the real model must for deferred MCP tools), and the fake sees the call
 * with the X-Hero-Context header the agent was created with.
 */
import assert from "node:assert/strict";
import {
  realClaudeAvailable,
  realCliDaemonEnv,
  startFakeMcp,
  startMockAnthropic,
} from "@hero/core/testing";
import { startInProcess, tempEnv, waitFor } from "./testing/daemon.ts";

Deno.test({
  name:
    "real CLI: a home_mcp agent calls its hero_router MCP server with the caller's X-Hero-Context",
  ignore: !(await realClaudeAvailable()),
  async fn() {
    await using mcp = startFakeMcp();
    await using mock = await startMockAnthropic();
    await using t = await tempEnv({
      ...realCliDaemonEnv({ mockUrl: mock.url }),
      HERO_ROUTER_URL: mcp.origin,
    });
    const config = `${t.dir}/claude_config`;
    await Deno.mkdir(config);
    await using d = await startInProcess({
      ...t.env,
      CLAUDE_CONFIG_DIR: config,
      HERO_ORCHESTRATOR_HOME_DEFAULT_CWD: t.work,
    });
    const answer = await d.fetch("http://localhost/rpc", {
      method: "POST",
      headers: { "content-type": "application/json", "x-hero-context": "books-ctx-7" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "agent.create",
        params: {
          prompt: 'Read it. SCENARIO_MCP_TOOL:mcp__hero_books__get_page {"page":42}',
          home_mcp: "hero_books",
          model: "claude-haiku-4-5",
        },
      }),
    });
    const { result: agent } = await answer.json();
    assert.ok(agent?.id);
    const done = await waitFor("the MCP turn", async () => {
      const a = await d.client.agent.get({ id: agent.id });
      if (a.status === "failed") throw new Error(`failed: ${a.error_message} ${a.stderr_tail}`);
      return a.status === "awaiting_review" ? a : undefined;
    }, 90_000);
    assert.equal(done.result, "MCP said: PAGE-42: once upon a time");

    const calls = mcp.calls();
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.path, "/mcp/hero_books");
    assert.equal(calls[0]!.headers["x-hero-context"], "books-ctx-7");
    assert.deepEqual(calls[0]!.message?.params?.arguments, { page: 42 });
    // Every request of the session carried the header, from initialize on.
    const posts = mcp.requests.filter((r) => r.method === "POST");
    assert.ok(posts.some((r) => r.message?.method === "initialize"));
    assert.ok(posts.every((r) => r.headers["x-hero-context"] === "books-ctx-7"));
    // The tool was deferred: the model loaded it through ToolSearch, then called it.
    const references: unknown[] = [];
    for (const r of mock.messageRequests()) {
      const last = (r.body as { messages: { content: unknown }[] }).messages.at(-1)?.content;
      for (const block of Array.isArray(last) ? last : []) {
        if (block?.type !== "tool_result" || !Array.isArray(block.content)) continue;
        for (const inner of block.content) {
          if (inner?.type === "tool_reference") references.push(inner.tool_name);
        }
      }
    }
    assert.deepEqual(references, ["mcp__hero_books__get_page"]);
    const { messages } = await d.client.agent.messages({ id: agent.id, limit: 1000 });
    const init = messages.map((m) => JSON.parse(m.raw ?? "{}")).find((l) => l.subtype === "init");
    assert.deepEqual(init.mcp_servers, [{
      name: "hero_books",
      status: "connected",
      source: "dynamic",
    }]);
  },
});
