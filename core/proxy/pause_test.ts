/**
 * The quota proxy and pauses: a 429 with unified status `rejected` is reported for the agent, and
 * a paused (or pausing) agent's requests, or a request past its budget, never reach the upstream.
 */
import assert from "node:assert/strict";
import { errorResponse, startMockAnthropic } from "../testing/mod.ts";
import { captureLog, messagesRequest, proxyFixture } from "./_testing.ts";
import { CredentialSource } from "./credential.ts";
import { startProxy } from "./server.ts";

async function setup(reject: () => boolean) {
  const fx = await proxyFixture();
  const reset = Math.floor(Date.now() / 1000) + 5;
  const mock = await startMockAnthropic({
    handler: (req) => {
      if (!req.path.endsWith("/v1/messages") || !reject()) return undefined;
      return errorResponse(429, "rate_limit_error", "Rate limited", {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": String(reset),
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
      });
    },
  });
  const rejected: Array<{ id: string; resetAt: number | null; window: string | null }> = [];
  const budget: string[] = [];
  const proxy = startProxy({
    socketPath: fx.socketPath,
    upstreamUrl: mock.url,
    credentials: new CredentialSource({ ANTHROPIC_API_KEY: "sk-ant-test-key-0123456789" }),
    store: fx.store,
    log: captureLog().log,
    onRateLimitRejected: (id, info) => rejected.push({ id, ...info }),
    onBudgetReached: (id) => budget.push(id),
  });
  return {
    fx,
    mock,
    reset,
    rejected,
    budget,
    messages: () => mock.requests.filter((r) => r.path.endsWith("/v1/messages")).length,
    async [Symbol.asyncDispose]() {
      await proxy.close();
      await mock.close();
      await fx[Symbol.asyncDispose]();
    },
  };
}

Deno.test("proxy: a rejected 429 is reported with its reset and window; a pausing agent's requests are not forwarded", async () => {
  let reject = true;
  await using t = await setup(() => reject);
  const a = t.fx.agent();
  const res = await t.fx.fetch(`/a/${a.id}/v1/messages`, messagesRequest(a.token));
  assert.equal(res.status, 429);
  await res.body?.cancel();
  assert.deepEqual(t.rejected, [{ id: a.id, resetAt: t.reset * 1000, window: "five_hour" }]);
  assert.equal(t.messages(), 1);

  // The supervisor stores the pause on the still-running row: from then on nothing is forwarded.
  reject = false;
  t.fx.store.updateAgent(a.id, { pause_reason: "rate_limit", resume_at: t.reset * 1000 });
  for (let i = 0; i < 5; i++) {
    const held = await t.fx.fetch(`/a/${a.id}/v1/messages`, messagesRequest(a.token));
    assert.equal(held.status, 429);
    const body = await held.json();
    assert.match(body.error.message, /paused \(rate_limit\)/);
  }
  assert.equal(t.messages(), 1, "a paused agent's request reached the upstream");

  // Another agent is unaffected by this agent's pause.
  const b = t.fx.agent();
  const ok = await t.fx.fetch(`/a/${b.id}/v1/messages`, messagesRequest(b.token));
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal(t.messages(), 2);
});

Deno.test("proxy: a request after the agent's cost budget is crossed is not forwarded and asks for a pause", async () => {
  await using t = await setup(() => false);
  const a = t.fx.agent();
  t.fx.store.updateAgent(a.id, { max_cost_usd: 0.1, total_cost_usd: 0.05 });
  const first = await t.fx.fetch(`/a/${a.id}/v1/messages`, messagesRequest(a.token));
  assert.equal(first.status, 200);
  await first.body?.cancel();
  t.fx.store.updateAgent(a.id, { total_cost_usd: 0.1 });
  const held = await t.fx.fetch(`/a/${a.id}/v1/messages`, messagesRequest(a.token));
  assert.equal(held.status, 429);
  assert.match((await held.json()).error.message, /cost budget/);
  assert.equal(t.messages(), 1);
  assert.deepEqual(t.budget, [a.id]);
  // Raising the budget lets it through again.
  t.fx.store.updateAgent(a.id, { max_cost_usd: 1 });
  const again = await t.fx.fetch(`/a/${a.id}/v1/messages`, messagesRequest(a.token));
  assert.equal(again.status, 200);
  await again.body?.cancel();
  assert.equal(t.messages(), 2);
});
