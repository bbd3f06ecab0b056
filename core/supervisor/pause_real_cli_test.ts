/**
 * The real claude CLI (pinned) against the mock Anthropic API answering 429 with unified status
 * `rejected` and a reset a few seconds ahead, with an OAuth-style credential (the CLI emits
 * `rate_limit_event` only then, claude_protocol.md §3): the agent pauses, nothing reaches the
 * upstream while it is paused, and it continues exactly once after the reset.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { errorResponse, realCliDaemonEnv, startMockAnthropic } from "../testing/mod.ts";
import { markedProcesses, waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

const CONTINUE = "Please continue where you stopped.";

/**
 * A mock whose five-hour window is rejected (429, unified status rejected) from the first Messages
 * request until a reset a few seconds later, however slow the CLI started; then it answers.
 */
async function rejectingMock() {
  let resetAt = 0;
  const mock = await startMockAnthropic({
    handler: (req) => {
      if (!req.path.startsWith("/v1/messages")) return undefined;
      if (resetAt === 0) resetAt = Math.ceil((Date.now() + 8_000) / 1000) * 1000;
      if (Date.now() >= resetAt) return undefined;
      const reset = String(Math.ceil(resetAt / 1000));
      return errorResponse(429, "rate_limit_error", "Rate limited", {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": reset,
        "anthropic-ratelimit-unified-5h-status": "rejected",
        "anthropic-ratelimit-unified-5h-reset": reset,
        "anthropic-ratelimit-unified-5h-utilization": "1.0",
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
      });
    },
  });
  return { mock, resetAt: () => resetAt };
}

Deno.test("real CLI: a rejected window pauses within 1 s, sends nothing while paused, continues once after the reset", async () => {
  const { mock, resetAt } = await rejectingMock();
  const config = await Deno.makeTempDir({ prefix: "hero_claude_config_" });
  try {
    const env = realCliDaemonEnv({ mockUrl: mock.url, configDir: config });
    delete (env as Record<string, string>).ANTHROPIC_API_KEY;
    await withEngine({
      env: {
        ...env,
        CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-test-token",
        // Direct: the CLI itself sees the OAuth credential and reports the rejected window.
        HERO_ORCHESTRATOR_PROXY_SCOPE: "off",
        HERO_ORCHESTRATOR_QUOTA_RESUME_SKEW_MS: "0",
        HERO_ORCHESTRATOR_QUOTA_RESUME_JITTER_MS: "0",
        HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT: CONTINUE,
      },
    }, async (h) => {
      const messages = () => mock.requests.filter((r) => r.path.startsWith("/v1/messages")).length;
      const a = h.engine.supervisor.create({
        prompt: "say hello",
        cwd: h.cwd,
        model: "claude-haiku-4-5",
      });
      // Paused within 1 s of the rejected event being stored.
      const event = await waitFor(
        "the rejected rate_limit_event",
        () => h.engine.store.readMessages(a.id, 0, 1000).find((m) => m.type === "rate_limit_event"),
        60_000,
      );
      const paused = await waitForStatus(h, a.id, "paused", 30_000);
      assert(
        paused.paused_at! - event.ts <= 1_000,
        `paused ${paused.paused_at! - event.ts} ms after the event`,
      );
      assertEquals([paused.pause_reason, paused.resume_at], ["rate_limit", resetAt()]);
      assertEquals(await markedProcesses([a.id]), []);
      const whilePaused = messages();
      assert(
        Date.now() < resetAt(),
        "the machine was too slow to observe the pause before the reset",
      );

      const done = await waitForStatus(h, a.id, "awaiting_review", 90_000);
      // Nothing went upstream between the pause and the reset; one continuation after it.
      const after = mock.requests.filter((r) => r.path.startsWith("/v1/messages"));
      assert(
        after.slice(whilePaused).every((r) => r.at >= resetAt()),
        "a request went out while paused",
      );
      assert(done.started_at !== null);
      await h.engine.supervisor.settled(a.id);
      const lines = h.engine.store.readMessages(a.id, 0, 10_000);
      const inits = lines.filter((m) => m.type === "system" && m.subtype === "init");
      assertEquals(inits.length, 2, "one rejected run and exactly one continuation");
      assertEquals(JSON.parse(inits[0]!.raw).session_id, JSON.parse(inits[1]!.raw).session_id);
      assertEquals(lines.map((m) => m.seq), lines.map((_, i) => i + 1));
      const texts = lines.filter((m) => m.type === "user").map((m) => m.raw).join("\n");
      assert(texts.includes(CONTINUE), "the continuation prompt was sent");
    });
  } finally {
    await mock.close();
    await Deno.remove(config, { recursive: true }).catch(() => {});
  }
});

Deno.test("real CLI through the proxy: a 429 with unified status rejected pauses within 1 s, nothing forwarded while paused, one continuation", async () => {
  const { mock, resetAt } = await rejectingMock();
  const config = await Deno.makeTempDir({ prefix: "hero_claude_config_" });
  try {
    const env = realCliDaemonEnv({ mockUrl: mock.url, configDir: config });
    delete (env as Record<string, string>).ANTHROPIC_API_KEY;
    await withEngine({
      env: {
        ...env,
        CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-test-token",
        // Proxied: the proxy sees the 429 with unified status rejected and pauses the agent.
        HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
        HERO_ORCHESTRATOR_QUOTA_RESUME_SKEW_MS: "0",
        HERO_ORCHESTRATOR_QUOTA_RESUME_JITTER_MS: "0",
        HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT: CONTINUE,
      },
    }, async (h) => {
      const rejectedAt = () => mock.requests.find((r) => r.path.startsWith("/v1/messages"))!.at;
      const messages = () => mock.requests.filter((r) => r.path.startsWith("/v1/messages")).length;
      const a = h.engine.supervisor.create({
        prompt: "say hello",
        cwd: h.cwd,
        model: "claude-haiku-4-5",
      });
      // Paused within 1 s of the rejected event being stored.
      const paused = await waitForStatus(h, a.id, "paused", 30_000);
      assert(
        paused.paused_at! - rejectedAt() <= 1_000,
        `paused ${paused.paused_at! - rejectedAt()} ms after the event`,
      );
      assertEquals([paused.pause_reason, paused.resume_at], ["rate_limit", resetAt()]);
      assertEquals(await markedProcesses([a.id]), []);
      const whilePaused = messages();
      assert(
        Date.now() < resetAt(),
        "the machine was too slow to observe the pause before the reset",
      );

      const done = await waitForStatus(h, a.id, "awaiting_review", 90_000);
      // Nothing went upstream between the pause and the reset; one continuation after it.
      const after = mock.requests.filter((r) => r.path.startsWith("/v1/messages"));
      assert(
        after.slice(whilePaused).every((r) => r.at >= resetAt()),
        "a request went out while paused",
      );
      assert(done.started_at !== null);
      await h.engine.supervisor.settled(a.id);
      const lines = h.engine.store.readMessages(a.id, 0, 10_000);
      const inits = lines.filter((m) => m.type === "system" && m.subtype === "init");
      assertEquals(inits.length, 2, "one rejected run and exactly one continuation");
      assertEquals(JSON.parse(inits[0]!.raw).session_id, JSON.parse(inits[1]!.raw).session_id);
      assertEquals(lines.map((m) => m.seq), lines.map((_, i) => i + 1));
      const texts = lines.filter((m) => m.type === "user").map((m) => m.raw).join("\n");
      assert(texts.includes(CONTINUE), "the continuation prompt was sent");
    });
  } finally {
    await mock.close();
    await Deno.remove(config, { recursive: true }).catch(() => {});
  }
});
