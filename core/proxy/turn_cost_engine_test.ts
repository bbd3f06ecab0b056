/**
 * The live turn cost inside the engine: a running proxied agent whose turn crosses its $0.10 cap
 * on the wire gets no further request forwarded and is paused with reason `budget`, the session
 * kept, until the budget covers that live cost too; prices come from HERO_ORCHESTRATOR_PRICES.
 */
import assert from "node:assert/strict";
import { fakePrompt, REAL_CLAUDE_BIN, startMockAnthropic } from "../testing/mod.ts";
import { waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

Deno.test("engine proxy: a turn whose live cost crosses max_cost_usd is cut off at the proxy and the agent pauses (budget)", async () => {
  // 1000 in + 7800 out at $1 / $5 per million: $0.04 a response.
  await using mock = await startMockAnthropic({
    usage: { input_tokens: 1000, output_tokens: 7800 },
  });
  await withEngine({
    env: {
      HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
      HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
      ANTHROPIC_API_KEY: "sk-ant-api03-daemon-key-0123456789",
      HERO_ORCHESTRATOR_PRICES: JSON.stringify({
        "test-model": { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25 },
      }),
    },
  }, async (h) => {
    const rec = `${h.cwd}/record.json`; // the cwd: shared with the sandbox
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { record: rec }, { hang: true }]),
      cwd: h.cwd,
      max_cost_usd: 0.1,
    });
    const env = JSON.parse(
      await waitFor("the record", async () => {
        try {
          return await Deno.readTextFile(rec);
        } catch {
          return undefined;
        }
      }),
    ).env as Record<string, string>;
    const client = Deno.createHttpClient({
      proxy: { transport: "unix", path: h.engine.paths.proxySocket },
    });
    // What the CLI would send during its one long turn, one request after another.
    const call = async () => {
      const res = await fetch(`${env.ANTHROPIC_BASE_URL}/v1/messages?beta=true`, {
        client,
        method: "POST",
        headers: {
          authorization: `Bearer ${env.ANTHROPIC_AUTH_TOKEN}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          model: "claude-test-model-1",
          max_tokens: 10_000,
          stream: true,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      return { status: res.status, text: await res.text() };
    };
    const messages = () => mock.requests.filter((r) => r.path.endsWith("/v1/messages")).length;
    try {
      for (let i = 0; i < 3; i++) assert.equal((await call()).status, 200);
      assert.equal(messages(), 3);
      // $0.12 on the wire, $0 reported by the CLI (its turn has not ended): held back.
      const held = await call();
      assert.equal(held.status, 429, held.text);
      assert.match(held.text, /cost budget/);
      assert.equal(messages(), 3, "the request after the cap reached the upstream");
      const paused = await waitForStatus(h, a.id, "paused");
      assert.equal(paused.pause_reason, "budget");
      assert.match(paused.error_message ?? "", /\$0\.1200 this turn/);
      assert.equal(messages(), 3);

      // The budget counts the live cost: $0 reported + $0.12 this turn is not within $0.10 or
      // $0.11, so the agent stays paused; $0.20 covers it and the same session continues.
      const s = h.engine.supervisor;
      assert.throws(() => s.quota.resume(a.id), /cost \$0\.1200 reached the budget/);
      assert.equal(s.quota.setBudget(a.id, { max_cost_usd: 0.11 }).status, "paused");
      assert.equal(s.quota.setBudget(a.id, { max_cost_usd: 0.2 }).max_cost_usd, 0.2);
      const done = await waitForStatus(h, a.id, "awaiting_review");
      assert.equal(done.session_id, paused.session_id);
      assert.equal(done.num_turns, paused.num_turns + 1);
      // Its result line reported the turn: the live tally starts over.
      assert.equal(h.engine.proxy!.turnCostUsd({ ...done, agent_id: done.id }), 0);
    } finally {
      client.close();
    }
  });
});

Deno.test("engine proxy: the real CLI's tool turn crossing $0.10 on the wire never gets its next request forwarded (real CLI)", async () => {
  // 1000 in + 11800 out at haiku's $1 / $5 per million: $0.06 a response, so the second
  // response of the turn crosses the $0.10 cap and the third request is held back.
  await using mock = await startMockAnthropic({
    usage: { input_tokens: 1000, output_tokens: 11_800 },
  });
  const config = await Deno.makeTempDir();
  try {
    await withEngine({
      env: {
        HERO_ORCHESTRATOR_CLAUDE_BIN: REAL_CLAUDE_BIN,
        HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
        HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
        ANTHROPIC_API_KEY: "sk-ant-api03-daemon-key-0123456789",
        CLAUDE_CONFIG_DIR: config,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES: "0",
      },
    }, async (h) => {
      const a = h.engine.supervisor.create({
        prompt: "SCENARIO_TOOLS",
        cwd: h.cwd,
        model: "claude-haiku-4-5",
        max_cost_usd: 0.1,
      });
      const paused = await waitForStatus(h, a.id, "paused", 90_000);
      assert.equal(paused.pause_reason, "budget");
      assert.match(paused.error_message ?? "", /this turn/);
      const turn = () =>
        mock.requests.filter((r) =>
          r.path.endsWith("/v1/messages") && JSON.stringify(r.body).includes("SCENARIO_TOOLS")
        );
      // The Write and the Bash answers went through; the request carrying the Bash result never did.
      assert.equal(turn().length, 2, JSON.stringify(turn().map((r) => r.path)));
      assert.ok(!turn().some((r) => JSON.stringify(r.body).includes("bash-ran")));
      await h.engine.supervisor.settled(a.id);
      assert.equal(turn().length, 2);
    });
  } finally {
    await Deno.remove(config, { recursive: true }).catch(() => {});
  }
});
