/**
 * The widget end to end with the REAL claude CLI: a prompt typed in the hero_books widget runs
 * claude against the mock Anthropic API, which asks for a tool of hero_books' MCP server (found
 * through ToolSearch, as MCP tools are deferred); claude reaches that server through the router's
 * gateway (`HERO_ROUTER_URL` + `/mcp/hero_books`) with the X-Hero-Context the router gave the
 * widget's request, and the widget streams the tool call and the answer.
 */
import assert from "node:assert/strict";
import {
  fakeMcpHandler,
  realClaudeAvailable,
  realCliDaemonEnv,
  startMockAnthropic,
} from "@hero/core/testing";
import { chromiumAvailable, HERO_CONTEXT, startWidgetStack } from "./testing/widget_stack.ts";

Deno.test({
  name: "widget in Chromium with the real CLI: the agent calls hero_books' MCP with the context",
  ignore: !chromiumAvailable() || !(await realClaudeAvailable()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using mock = await startMockAnthropic();
    const configDir = await Deno.makeTempDir({ prefix: "hero_widget_claude_" });
    try {
      await using stack = await startWidgetStack({
        ...realCliDaemonEnv({ mockUrl: mock.url, configDir }),
      });
      const mcp = fakeMcpHandler();
      stack.router.mount("/mcp/hero_books", (req) => mcp.handle(req));

      const page = await stack.open("/hero_books/admin/");
      await page.click("#books .launcher");
      await page.waitForSelector("#books select[name=model] option[value=claude-haiku-4-5]", {
        state: "attached",
      });
      await page.selectOption("#books select[name=model]", "claude-haiku-4-5");
      await page.fill(
        "#books textarea[name=prompt]",
        'What happens on page 7? SCENARIO_MCP_TOOL:mcp__hero_books__get_page {"page":7}',
      );
      await page.click("#books .run");
      await page.waitForSelector("#books[data-status=awaiting_review]", { timeout: 90_000 });
      const items = await page.locator("#books .transcript .item").allInnerTexts();
      assert.ok(items.includes('⚙ hero_books · get_page {"page":7}'), items.join("\n"));
      assert.ok(items.includes("↳ PAGE-7: once upon a time"), items.join("\n"));
      assert.ok(items.includes("MCP said: PAGE-7: once upon a time"), items.join("\n"));

      const calls = mcp.calls();
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.headers["x-hero-context"], HERO_CONTEXT);
      assert.deepEqual(calls[0]!.message?.params?.arguments, { page: 7 });
      const agent = (await stack.server.client.agent.list({})).agents[0]!;
      assert.equal(agent.home_mcp, "hero_books");
      assert.equal(agent.hero_context, HERO_CONTEXT);
      assert.deepEqual(stack.errors, []);
    } finally {
      await Deno.remove(configDir, { recursive: true }).catch(() => {});
    }
  },
});
