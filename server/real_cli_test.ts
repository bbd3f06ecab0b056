/**
 * The real claude CLI (pinned; tools/run_tests.ts installs it) behind the daemon and the SDK, against
 * the mock Anthropic API: a follow-up resumes the same session, so the API sees the earlier turn.
 */
import assert from "node:assert/strict";
import {
  realClaudeAvailable,
  realCliDaemonEnv,
  startMockAnthropic,
  userTexts,
} from "@hero/core/testing";
import { startInProcess, tempEnv, waitFor } from "./testing/daemon.ts";

Deno.test({
  name: "real CLI: follow_up through the SDK resumes the session; the API sees the first turn",
  ignore: !(await realClaudeAvailable()),
  async fn() {
    const mock = await startMockAnthropic();
    await using t = await tempEnv(realCliDaemonEnv({ mockUrl: mock.url }));
    const config = `${t.dir}/claude_config`;
    await Deno.mkdir(config);
    try {
      await using d = await startInProcess({ ...t.env, CLAUDE_CONFIG_DIR: config });
      const { client } = d;
      const agent = await client.agent.create({
        prompt: "first question about zebras",
        cwd: t.work,
        model: "claude-haiku-4-5",
      });
      const first = await waitFor("first turn", async () => {
        const a = await client.agent.get({ id: agent.id });
        if (a.status === "failed") throw new Error(`failed: ${a.error_message}`);
        return a.status === "awaiting_review" ? a : undefined;
      }, 90_000);
      assert.equal(first.result, "Hello from mock");

      await client.agent.followUp({ id: agent.id, prompt: "second question about lions" });
      const second = await waitFor("second turn", async () => {
        const a = await client.agent.get({ id: agent.id });
        if (a.status === "failed") throw new Error(`failed: ${a.error_message}`);
        return a.status === "awaiting_review" && a.turn_count === 2 ? a : undefined;
      }, 90_000);
      assert.equal(second.session_id, first.session_id, "same claude session");

      const resumed = mock.requests.filter((r) =>
        r.path.startsWith("/v1/messages") && !r.path.includes("count_tokens") &&
        userTexts(r).includes("second question about lions")
      );
      assert.ok(resumed.length > 0, "the second prompt reached the API");
      assert.ok(
        resumed.some((r) => userTexts(r).includes("first question about zebras")),
        "the resumed request carries the earlier conversation",
      );
      const { messages } = await client.agent.messages({ id: agent.id, limit: 1000 });
      assert.deepEqual(messages.map((m) => m.seq), messages.map((_, i) => i + 1));
    } finally {
      await mock.close();
    }
  },
});
