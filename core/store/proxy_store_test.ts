/** The store's proxy, usage and work tree tables. */
import assert from "node:assert/strict";
import { sampleAgent, tempStore } from "./_testing.ts";

Deno.test("proxy tokens: hash only, revoked by terminal transitions, gone with the agent", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent());
  assert.throws(
    () => store.insertProxyToken(a.id, "hop_plain_token", Date.now() + 1000),
    TypeError,
  );
  store.insertProxyToken(a.id, "1".repeat(64), Date.now() + 1000);
  store.insertProxyToken(a.id, "2".repeat(64), Date.now() + 1000);
  assert.equal(store.findProxyToken("1".repeat(64))!.agent_id, a.id);
  assert.equal(store.findProxyToken("1".repeat(64))!.revoked_at, null);
  store.transition(a.id, "running", {});
  store.transition(a.id, "awaiting_review", {});
  assert.equal(store.findProxyToken("2".repeat(64))!.revoked_at, null, "review is not terminal");
  store.transition(a.id, "completed", {});
  assert.ok(store.findProxyToken("1".repeat(64))!.revoked_at);
  assert.ok(store.findProxyToken("2".repeat(64))!.revoked_at);
  const b = store.insertAgent(sampleAgent());
  store.insertProxyToken(b.id, "3".repeat(64), Date.now() + 1000);
  assert.equal(store.revokeAllProxyTokens(), 1);
  store.recordProxyActivity([], [{
    agent_id: a.id,
    ts: 1,
    status: 200,
    error: false,
    input_tokens: 1,
    output_tokens: 2,
    cache_read_tokens: 0,
    cache_creation_tokens: 0,
    bytes_in: 3,
    bytes_out: 4,
  }]);
  assert.equal(store.proxyTally(a.id)!.output_tokens, 2);
  store.deleteAgent(a.id);
  assert.equal(store.findProxyToken("1".repeat(64)), undefined);
  assert.equal(store.proxyTally(a.id), undefined);
});

Deno.test("usage ledger: sums, per agent, hourly series; snapshots newest first", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent({ name: "A" }));
  const b = store.insertAgent(sampleAgent({ name: "B", kind: "shadow" }));
  const turn = (cost: number, out: number) => ({
    input_tokens: 10,
    output_tokens: out,
    cache_read_tokens: 1,
    cache_creation_tokens: 2,
    cost_usd: cost,
  });
  const hour = 3_600_000;
  const t0 = 100 * hour;
  store.recordTurnUsage(a.id, t0 + 10, turn(0.5, 5));
  store.recordTurnUsage(a.id, t0 + hour + 10, turn(0.25, 7));
  store.recordTurnUsage(b.id, t0 + 2 * hour + 10, turn(0.125, 1));
  assert.deepEqual(store.usageSums(t0, t0 + 3 * hour), {
    turns: 3,
    input_tokens: 30,
    output_tokens: 13,
    cache_read_tokens: 3,
    cache_creation_tokens: 6,
    cost_usd: 0.875,
  });
  assert.equal(store.usageSums(t0 + hour, t0 + 3 * hour).cost_usd, 0.375);
  const per = store.usageByAgent(t0, t0 + 3 * hour, 10);
  assert.deepEqual(per.map((p) => [p.name, p.kind, p.turns, p.cost_usd]), [
    ["A", "standard", 2, 0.75],
    ["B", "shadow", 1, 0.125],
  ]);
  assert.deepEqual(store.usageByAgent(t0, t0 + 3 * hour, 10, b.id).map((p) => p.agent_id), [b.id]);
  const series = store.usageSeries(t0, t0 + 4 * hour, hour);
  assert.deepEqual(series.map((s) => [s.start - t0, s.cost_usd]), [
    [0, 0.5],
    [hour, 0.25],
    [2 * hour, 0.125],
    [3 * hour, 0],
  ]);
  assert.throws(() => store.usageSeries(0, 2000, 1), RangeError);
  // The ledger outlives a deleted agent (cost history stays true).
  store.transition(b.id, "cancelled", {});
  store.deleteAgent(b.id);
  assert.equal(store.usageSums(t0, t0 + 3 * hour).turns, 3);
  assert.equal(store.usageByAgent(t0, t0 + 3 * hour, 10)[1]!.agent_id, null);

  const snap = (ts: number, agent: string | null) => ({
    ts,
    agent_id: agent,
    method: "POST",
    path: "/v1/messages",
    status: 200,
    request_id: `r${ts}`,
    headers: { "anthropic-ratelimit-unified-status": "allowed" },
  });
  store.recordProxyActivity([snap(1, a.id), snap(2, null), snap(3, a.id)], []);
  assert.deepEqual(store.rateLimitSnapshots(10).map((s) => s.ts), [3, 2, 1]);
  assert.deepEqual(store.rateLimitSnapshots(10, a.id).map((s) => s.request_id), ["r3", "r1"]);
  assert.equal(store.pruneUsage(3).snapshots, 2);
  store.recordOauthPoll({ ts: 1, ok: true, http_status: 200, body: "{}", error: null });
  store.recordOauthPoll({ ts: 2, ok: false, http_status: 500, body: null, error: "HTTP 500" });
  assert.equal(store.latestOauthPoll()!.ok, false);
  assert.equal(store.latestOauthPoll(true)!.ts, 1);
});

Deno.test("work tree snapshots keep the first; commit records", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent());
  const snap = { toplevel: "/r", head: "abc", entries: { "x.txt": " M 123" }, taken_at: 5 };
  assert.equal(store.saveWorktreeSnapshot(a.id, snap), true);
  assert.equal(store.saveWorktreeSnapshot(a.id, { ...snap, head: "def" }), false);
  assert.equal(store.worktreeSnapshot(a.id)!.head, "abc");
  const b = store.insertAgent(sampleAgent());
  store.saveWorktreeSnapshot(b.id, { ...snap, taken_at: 9 });
  assert.deepEqual(store.worktreeNeighbours(a.id, "/r").map((n) => n.agent_id), [b.id]);
  store.saveCommitProposal(a.id, {
    message: "feat: x",
    source: "shadow",
    shadow_id: null,
    files: ["x.txt"],
    prepared_at: 1,
  });
  store.recordCommit(a.id, { message: "feat: x", source: "shadow", files: ["x.txt"], sha: "f00" });
  store.saveCommitProposal(a.id, {
    message: "feat: later",
    source: "shadow",
    shadow_id: null,
    files: [],
    prepared_at: 2,
  });
  assert.equal(
    store.commitRecord(a.id)!.message,
    "feat: x",
    "a committed record is never replaced",
  );
  assert.equal(store.commitRecord(a.id)!.sha, "f00");
});

Deno.test("usage ledger: the cost under a directory counts its agents and those below it, not a sibling prefix", async () => {
  await using store = await tempStore();
  const turn = (cost: number) => ({
    input_tokens: 1,
    output_tokens: 1,
    cache_read_tokens: 0,
    cache_creation_tokens: 0,
    cost_usd: cost,
  });
  const at = (cwd: string, cost: number, ts: number) => {
    const a = store.insertAgent(sampleAgent({ cwd }));
    store.recordTurnUsage(a.id, ts, turn(cost));
  };
  at("/work/repo", 1, 100);
  at("/work/repo/sub", 0.5, 200);
  at("/work/repository", 4, 300);
  at("/work/repo", 8, 5_000);
  assert.equal(store.usageCostUnder("/work/repo", 0, 1_000), 1.5);
  assert.equal(store.usageCostUnder("/work/repo/", 0, 1_000), 1.5);
  assert.equal(store.usageCostUnder("/work", 0, 1_000), 5.5);
  assert.equal(store.usageCostUnder("/elsewhere", 0, 1_000), 0);
});
