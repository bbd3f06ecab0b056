/**
 * The proxy's live cost of a turn: responses of known usage, priced by the table, hold back the
 * request that would start after the agent's cost budget is crossed, before the CLI reports it.
 */
import assert from "node:assert/strict";
import { startMockAnthropic } from "../testing/mod.ts";
import { captureLog, messagesRequest, proxyFixture } from "./_testing.ts";
import { CredentialSource } from "./credential.ts";
import { startProxy } from "./server.ts";
import {
  costOfTokens,
  DEFAULT_PRICES,
  priceOf,
  type PriceTable,
  resolvePrices,
} from "../config/mod.ts";

// Haiku at $1 / $5 per million: 1000 in + 7800 out = $0.04 a response.
const USAGE = { input_tokens: 1000, output_tokens: 7800 };

async function setup(prices?: PriceTable) {
  const fx = await proxyFixture();
  const mock = await startMockAnthropic({ usage: USAGE });
  const budget: string[] = [];
  const proxy = startProxy({
    socketPath: fx.socketPath,
    upstreamUrl: mock.url,
    credentials: new CredentialSource({ ANTHROPIC_API_KEY: "sk-ant-test-key-0123456789" }),
    store: fx.store,
    log: captureLog().log,
    flushMs: 10,
    prices,
    onBudgetReached: (id) => budget.push(id),
  });
  return {
    fx,
    budget,
    messages: () => mock.requests.filter((r) => r.path.endsWith("/v1/messages")).length,
    /** One request; its body is read to the end (the tally counts finished responses). */
    async send(agent: { id: string; token: string }, stream = true) {
      const res = await fx.fetch(
        `/a/${agent.id}/v1/messages`,
        messagesRequest(agent.token, { stream, maxTokens: 10_000 }),
      );
      const text = await res.text();
      return { status: res.status, text };
    },
    async [Symbol.asyncDispose]() {
      await proxy.close();
      await mock.close();
      await fx[Symbol.asyncDispose]();
    },
  };
}

Deno.test("turn cost: with a $0.10 cap, the request after the live tally crosses it is never forwarded", async () => {
  await using t = await setup();
  const a = t.fx.agent();
  t.fx.store.updateAgent(a.id, { max_cost_usd: 0.1 });
  // $0.04, $0.08, then $0.12: the third starts below the cap and crosses it.
  for (const stream of [true, false, true]) {
    const ok = await t.send(a, stream);
    assert.equal(ok.status, 200, ok.text);
  }
  assert.equal(t.messages(), 3);
  for (let i = 0; i < 3; i++) {
    const held = await t.send(a);
    assert.equal(held.status, 429);
    assert.match(JSON.parse(held.text).error.message, /cost budget .*\$0\.1200 this turn/);
  }
  assert.equal(t.messages(), 3, "a request past the cap reached the upstream");
  assert.ok(t.budget.length >= 1 && t.budget.every((id) => id === a.id));

  // Another agent of the same proxy is unaffected.
  const b = t.fx.agent();
  t.fx.store.updateAgent(b.id, { max_cost_usd: 0.1 });
  assert.equal((await t.send(b)).status, 200);
  assert.equal(t.messages(), 4);

  // Raising the cap above the turn's cost lets the same turn go on.
  t.fx.store.updateAgent(a.id, { max_cost_usd: 0.2 });
  assert.equal((await t.send(a)).status, 200);
  assert.equal(t.messages(), 5);
});

Deno.test("turn cost: a result line starts the next turn's tally at zero (the CLI's figure counts it)", async () => {
  await using t = await setup();
  const a = t.fx.agent();
  t.fx.store.updateAgent(a.id, { max_cost_usd: 0.1 });
  for (let i = 0; i < 3; i++) assert.equal((await t.send(a)).status, 200);
  assert.equal((await t.send(a)).status, 429);
  // The turn ended: the CLI reports $0.05 (its own figure), the live tally starts over.
  t.fx.store.updateAgent(a.id, { total_cost_usd: 0.05, num_turns: 1 });
  assert.equal((await t.send(a)).status, 200, "$0.05 reported + $0 live is within the cap");
  // $0.05 + $0.04 = $0.09 is still below the cap; after it $0.05 + $0.08 is not.
  assert.equal((await t.send(a)).status, 200);
  const held = await t.send(a);
  assert.equal(held.status, 429);
  assert.match(JSON.parse(held.text).error.message, /\$0\.0500 reported \+ \$0\.0800 this turn/);
  assert.equal(t.messages(), 5);
});

Deno.test("turn cost: prices come from the table, and HERO_ORCHESTRATOR_PRICES overrides a family", async () => {
  // Ten times the list price of haiku: the first response ($0.40) crosses the cap at once.
  const prices = resolvePrices({
    HERO_ORCHESTRATOR_PRICES: JSON.stringify({
      haiku: { input: 10, output: 50, cache_read: 1, cache_write: 12.5 },
    }),
  });
  await using t = await setup(prices);
  const a = t.fx.agent();
  t.fx.store.updateAgent(a.id, { max_cost_usd: 0.1 });
  assert.equal((await t.send(a)).status, 200);
  assert.equal((await t.send(a)).status, 429);
  assert.equal(t.messages(), 1);
});

Deno.test("prices: family lookup, cost arithmetic and refused settings", () => {
  assert.equal(priceOf(DEFAULT_PRICES, "claude-sonnet-4-6").output, 15);
  assert.equal(priceOf(DEFAULT_PRICES, "claude-haiku-4-5").input, 1);
  assert.equal(priceOf(DEFAULT_PRICES, "claude-opus-4-7").input, 5);
  assert.equal(priceOf(DEFAULT_PRICES, "claude-opus-4-1-20250805").input, 15);
  assert.equal(priceOf(DEFAULT_PRICES, "some-new-model").output, 75, "unknown: the dearest");
  assert.equal(priceOf(DEFAULT_PRICES, null), DEFAULT_PRICES.default);
  const usd = costOfTokens(DEFAULT_PRICES, "claude-sonnet-4-6", {
    input_tokens: 1_000_000,
    output_tokens: 100_000,
    cache_read_tokens: 1_000_000,
    cache_creation_tokens: 1_000_000,
  });
  assert.ok(Math.abs(usd - (3 + 1.5 + 0.3 + 3.75)) < 1e-9, String(usd));
  assert.equal(resolvePrices({}), DEFAULT_PRICES);
  const merged = resolvePrices({
    HERO_ORCHESTRATOR_PRICES:
      '{"mythos": {"input": 2, "output": 8, "cache_read": 0.2, "cache_write": 2.5}}',
  });
  assert.equal(priceOf(merged, "claude-mythos-1").output, 8);
  assert.equal(priceOf(merged, "claude-sonnet-4-6").output, 15, "defaults stay");
  for (
    const bad of [
      "not json",
      "[1]",
      '{"haiku": {"input": 1}}',
      '{"haiku": {"input": -1, "output": 5, "cache_read": 0.1, "cache_write": 1.25}}',
      '{"Haiku": {"input": 1, "output": 5, "cache_read": 0.1, "cache_write": 1.25}}',
    ]
  ) {
    assert.throws(
      () => resolvePrices({ HERO_ORCHESTRATOR_PRICES: bad }),
      /HERO_ORCHESTRATOR_PRICES/,
    );
  }
});
