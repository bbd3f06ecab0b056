import assert from "node:assert/strict";
import { startMockAnthropic } from "./mock_anthropic.ts";
import { fakeMcpHandler } from "./fake_mcp.ts";

const PROMPT = 'SCENARIO_MCP_TOOL:mcp__hero_books__get_page {"page":3}';

async function ask(url: string, messages: unknown[], tools: string[]) {
  const r = await fetch(`${url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "claude-haiku-4-5",
      stream: false,
      messages,
      tools: tools.map((name) => ({ name, input_schema: { type: "object" } })),
    }),
  });
  return (await r.json()).content as Array<Record<string, unknown>>;
}

Deno.test("mock SCENARIO_MCP_TOOL: ToolSearch for a deferred tool, the call, then the result quoted", async () => {
  await using mock = await startMockAnthropic();
  const user = { role: "user", content: [{ type: "text", text: PROMPT }] };
  const [search] = await ask(mock.url, [user], ["ToolSearch"]);
  assert.equal(search!.name, "ToolSearch");
  assert.deepEqual(search!.input, { query: "select:mcp__hero_books__get_page", max_results: 1 });
  const [call] = await ask(mock.url, [user], ["ToolSearch", "mcp__hero_books__get_page"]);
  assert.equal(call!.name, "mcp__hero_books__get_page");
  assert.deepEqual(call!.input, { page: 3 });
  const [answer] = await ask(mock.url, [
    user,
    { role: "assistant", content: [{ ...call, type: "tool_use" }] },
    {
      role: "user",
      content: [{
        type: "tool_result",
        tool_use_id: call!.id,
        content: [{ type: "text", text: "PAGE-3" }, { type: "text", text: "<system-reminder>x" }],
      }],
    },
  ], ["ToolSearch", "mcp__hero_books__get_page"]);
  assert.deepEqual(answer, { type: "text", text: "MCP said: PAGE-3" });
});

Deno.test("fakeMcpHandler() answers initialize, tools/list, tools/call and records headers", async () => {
  const mcp = fakeMcpHandler();
  const post = (message: unknown) =>
    mcp.handle(
      new Request("http://x/mcp/hero_books", {
        method: "POST",
        headers: { "content-type": "application/json", "x-hero-context": "c1" },
        body: JSON.stringify(message),
      }),
    );
  const init = await (await post({ jsonrpc: "2.0", id: 0, method: "initialize", params: {} }))
    .json();
  assert.deepEqual(init.result.capabilities, { tools: {} });
  assert.equal((await post({ jsonrpc: "2.0", method: "notifications/initialized" })).status, 202);
  const list = await (await post({ jsonrpc: "2.0", id: 1, method: "tools/list" })).json();
  assert.deepEqual(list.result.tools.map((t: { name: string }) => t.name), ["get_page"]);
  const call = await (await post({
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: { name: "get_page", arguments: { page: 9 } },
  })).json();
  assert.deepEqual(call.result.content, [{ type: "text", text: "PAGE-9: once upon a time" }]);
  assert.equal((await mcp.handle(new Request("http://x/mcp", { method: "GET" }))).status, 405);
  assert.equal(mcp.calls().length, 1);
  assert.equal(mcp.calls()[0]!.headers["x-hero-context"], "c1");
});
