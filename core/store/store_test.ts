import assert from "node:assert/strict";
import { Agent, type AgentStatus, InvalidTransitionError, newId } from "../models/mod.ts";
import { AgentNotFoundError } from "./mod.ts";
import { sampleAgent, tempStore } from "./_testing.ts";

Deno.test("insertAgent() stores a queued agent that passes Agent.parse and records an agent event", async () => {
  await using store = await tempStore();
  const input = sampleAgent({ name: "n", parent_id: "p", created_at: 1234 });
  const agent = store.insertAgent(input);
  assert.deepEqual(Agent.parse(agent), agent);
  assert.equal(agent.status, "queued");
  assert.equal(agent.created_at, 1234);
  assert.equal(agent.updated_at, 1234);
  assert.equal(agent.last_seq, 0);
  assert.equal(agent.stderr_truncated, false);
  assert.deepEqual(store.getAgent(input.id), agent);
  assert.equal(Object.getPrototypeOf(agent), Object.prototype);
  assert.deepEqual(Object.keys(agent), Object.keys(Agent.shape));
  assert.deepEqual(store.readEvents(0, 10).map((e) => [e.kind, e.agent_id, e.seq]), [
    ["agent", input.id, null],
  ]);
  assert.equal(store.lastEventId(), 1);
  assert.equal(store.getAgent("nope"), undefined);
});

Deno.test("transition() applies legal moves with their patch and records an event each", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const running = store.transition(id, "running", {
    pid: 42,
    pgid: 42,
    started_at: 5000,
    proc_marker: "m1",
    proc_lstart: "Mon Jan  1 00:00:00 2026",
    proc_started_at: 4999,
    attempts: 1,
  });
  Agent.parse(running);
  assert.equal(running.status, "running");
  assert.equal(running.pid, 42);
  assert.ok(running.updated_at >= running.created_at);
  assert.deepEqual(store.getProcessRecord(id), {
    pid: 42,
    pgid: 42,
    marker: "m1",
    started_at: 4999,
    lstart: "Mon Jan  1 00:00:00 2026",
    attempts: 1,
    pending_prompt: null,
    pending_permission_mode: null,
  });
  const done = store.transition(id, "awaiting_review", { stderr_truncated: true, result: "r" });
  assert.equal(done.stderr_truncated, true);
  assert.equal(done.pid, 42, "fields outside the patch are kept");
  assert.equal(store.transition(id, "completed").status, "completed");
  assert.equal(store.readEvents(0, 10, id).length, 4);
});

Deno.test("transition() refuses an illegal move with InvalidTransitionError and changes nothing", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const before = store.getAgent(id);
  const events = store.lastEventId();
  assert.throws(
    () => store.transition(id, "completed", { result: "x" }),
    (err: unknown) =>
      err instanceof InvalidTransitionError && err.from === "queued" && err.to === "completed",
  );
  assert.deepEqual(store.getAgent(id), before);
  assert.equal(store.lastEventId(), events);
  store.transition(id, "cancelled");
  assert.throws(() => store.transition(id, "running"), InvalidTransitionError);
});

Deno.test("transition(), updateAgent() and deleteAgent() throw AgentNotFoundError for unknown ids", async () => {
  await using store = await tempStore();
  for (
    const call of [
      () => store.transition("ghost", "running"),
      () => store.updateAgent("ghost", { result: "x" }),
      () => store.deleteAgent("ghost"),
      () => store.readMessages("ghost", 0, 10),
      () => store.countMessages("ghost"),
      () => store.readEvents(0, 10, "ghost"),
    ]
  ) {
    assert.throws(call, (err: unknown) => {
      assert.ok(err instanceof AgentNotFoundError);
      assert.equal(err.name, "AgentNotFoundError");
      assert.equal(err.code, "not_found");
      assert.equal(err.message, 'Cannot find agent "ghost": no such agent');
      return true;
    });
  }
  assert.equal(store.readMessageBytes("ghost", 1), undefined);
});

Deno.test("updateAgent() refuses status and non-patchable or ill-typed fields", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const events = store.lastEventId();
  const bad: Array<Record<string, unknown>> = [
    { status: "running" },
    { last_seq: 3 },
    { id: "x" },
    { created_at: 1 },
    { agent_key: 9 },
    { "name = 'x', prompt": "injection" },
    { pid: "12" },
    { effort: "extreme" },
    { stderr_truncated: 1 },
    { attempts: -1 },
  ];
  for (const patch of bad) {
    assert.throws(() => store.updateAgent(id, patch as never), TypeError, JSON.stringify(patch));
  }
  assert.throws(() => store.transition(id, "running", { status: "failed" } as never), TypeError);
  assert.equal(store.lastEventId(), events);
  const updated = store.updateAgent(id, {
    session_id: "s1",
    total_cost_usd: 0.25,
    name: undefined,
  });
  assert.equal(updated.session_id, "s1");
  assert.equal(updated.total_cost_usd, 0.25);
  assert.equal(store.lastEventId(), events + 1);
});

Deno.test("insertAgent() refuses fields the Agent schema refuses", async () => {
  await using store = await tempStore();
  const bad: Array<Record<string, unknown>> = [
    { effort: "extreme" },
    { kind: "robot" },
    { prompt: 5 },
    { created_at: 1.5 },
    { name: 3 },
  ];
  for (const fields of bad) {
    assert.throws(() => store.insertAgent(sampleAgent(fields as never)), TypeError);
  }
  assert.equal(store.lastEventId(), 0);
  const dup = sampleAgent();
  store.insertAgent(dup);
  assert.throws(() => store.insertAgent(dup), /UNIQUE/);
});

Deno.test("write() commits all or nothing and does not nest", async () => {
  await using store = await tempStore();
  const a = sampleAgent();
  assert.throws(() =>
    store.write(() => {
      store.insertAgent(a);
      store.transition(a.id, "running");
      throw new Error("boom");
    }), /boom/);
  assert.equal(store.getAgent(a.id), undefined);
  assert.equal(store.lastEventId(), 0);
  assert.throws(() => store.write(() => store.write(() => 1)), /does not nest/);
  assert.throws(() => store.write(() => Promise.resolve(1)), TypeError);
  const [x, y] = store.write(
    () => [store.insertAgent(sampleAgent()), store.insertAgent(sampleAgent())],
  );
  assert.ok(store.getAgent(x!.id) && store.getAgent(y!.id));
  // After a rolled-back transition inside write(), the agent is unchanged.
  assert.throws(
    () => store.write(() => store.transition(x!.id, "completed")),
    InvalidTransitionError,
  );
  assert.equal(store.getAgent(x!.id)!.status, "queued");
});

Deno.test("listAgents() pages through 10,000 agents newest first, each exactly once, with filters", async () => {
  await using store = await tempStore();
  const base = Date.now() - 100_000;
  const cwds = ["/w/a", "/w/b", "/w/c"];
  const statuses: AgentStatus[] = ["queued", "running", "failed"];
  const ids: string[] = [];
  store.write(() => {
    for (let i = 0; i < 10_000; i++) {
      const id = newId(base + i);
      ids.push(id);
      store.insertAgent(
        sampleAgent({ id, cwd: cwds[i % 3]!, kind: i % 10 === 0 ? "planner" : "standard" }),
      );
      if (i % 2 === 1) store.transition(id, "running");
      if (i % 4 === 3) store.transition(id, "failed");
    }
  });
  const statusOf = (i: number) => statuses[i % 4 === 3 ? 2 : i % 2];

  function pageAll(q: Parameters<typeof store.listAgents>[0]): string[] {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 200; pages++) {
      const page = store.listAgents({ ...q, cursor });
      assert.ok(page.agents.length <= q.limit);
      seen.push(...page.agents.map((a) => a.id));
      cursor = page.next_cursor;
      if (cursor === null) return seen;
    }
    throw new Error("too many pages");
  }

  const started = performance.now();
  const all = pageAll({ limit: 100 });
  const ms = performance.now() - started;
  assert.equal(all.length, 10_000);
  assert.equal(new Set(all).size, 10_000);
  assert.deepEqual(all, [...ids].reverse());
  assert.ok(ms < 2000, `paging 10k agents took ${ms} ms`);

  const inB = pageAll({ limit: 100, cwd: "/w/b" });
  assert.deepEqual(inB, ids.filter((_, i) => i % 3 === 1).reverse());

  const failedOrQueuedInC = pageAll({ limit: 37, cwd: "/w/c", statuses: ["failed", "queued"] });
  assert.deepEqual(
    failedOrQueuedInC,
    ids.filter((_, i) => i % 3 === 2 && statusOf(i) !== "running").reverse(),
  );
  const planners = pageAll({ limit: 1000, kinds: ["planner"], statuses: [] });
  assert.deepEqual(planners, ids.filter((_, i) => i % 10 === 0).reverse());

  assert.equal(store.listAgents({ limit: 5000 }).agents.length, 1000, "limit clamped to 1000");
  assert.throws(() => store.listAgents({ limit: 0 }), RangeError);
  assert.throws(() => store.listAgents({ limit: 10, cursor: "garbage" }), RangeError);
  assert.deepEqual(store.listAgents({ limit: 10, cwd: "/nowhere" }), {
    agents: [],
    next_cursor: null,
  });

  assert.deepEqual(store.knownCwds(), [
    { cwd: "/w/a", count: 3334 },
    { cwd: "/w/b", count: 3333 },
    { cwd: "/w/c", count: 3333 },
  ]);
});

Deno.test("listAgentsByStatus() returns matching agents oldest first", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent({ created_at: 300 }));
  const b = store.insertAgent(sampleAgent({ created_at: 100 }));
  const c = store.insertAgent(sampleAgent({ created_at: 200 }));
  store.transition(c.id, "running");
  store.transition(a.id, "cancelled");
  assert.deepEqual(store.listAgentsByStatus(["queued", "running"]).map((x) => x.id), [b.id, c.id]);
  assert.deepEqual(store.listAgentsByStatus([]), []);
});

Deno.test("deleteAgent() removes the agent, its messages and its events only", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent());
  const b = store.insertAgent(sampleAgent());
  store.transition(a.id, "cancelled");
  store.deleteAgent(a.id);
  assert.equal(store.getAgent(a.id), undefined);
  assert.deepEqual(store.readEvents(0, 100).map((e) => e.agent_id), [b.id]);
  assert.equal(store.lastEventId(), 3, "event ids are never reused");
  store.updateAgent(b.id, { result: "x" });
  assert.equal(store.readEvents(0, 100).at(-1)!.id, 4);
  assert.equal(store.integrityCheck(), "ok");
});

Deno.test("readEvents() pages by id, filters by agent and validates its arguments", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent());
  const b = store.insertAgent(sampleAgent());
  for (let i = 0; i < 5; i++) store.updateAgent(i % 2 ? a.id : b.id, { turn_count: i });
  const all = store.readEvents(0, 1000);
  assert.deepEqual(all.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(store.readEvents(3, 2).map((e) => e.id), [4, 5]);
  assert.deepEqual(store.readEvents(0, 100, a.id).map((e) => e.id), [1, 4, 6]);
  assert.equal(store.lastEventId(), 7);
  for (const bad of [-1, 1.5, Number.NaN, 1e309]) {
    assert.throws(() => store.readEvents(bad, 10), RangeError);
  }
});

Deno.test("checkpoint() truncates the WAL; close() leaves no WAL behind and is idempotent", async () => {
  await using store = await tempStore();
  store.insertAgent(sampleAgent());
  const wal = `${store.path}-wal`;
  assert.ok(Deno.statSync(wal).size > 0);
  store.checkpoint();
  assert.equal(Deno.statSync(wal).size, 0);
  store.insertAgent(sampleAgent());
  store.close();
  store.close();
  assert.equal(sizeOrZero(wal), 0);
});

function sizeOrZero(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

Deno.test("transitionMany() moves every allowed agent in one transaction and skips the rest", async () => {
  await using store = await tempStore();
  {
    const a = store.insertAgent(sampleAgent()).id;
    const b = store.insertAgent(sampleAgent()).id;
    const c = store.insertAgent(sampleAgent()).id;
    store.transition(a, "running", {});
    store.transition(b, "running", {});
    const before = store.lastEventId();
    const moved = store.transitionMany([a, b, c, "missing"], "awaiting_review", { result: "x" });
    assert.deepEqual(moved.map((m) => m.id), [a, b]);
    assert.equal(store.getAgent(c)!.status, "queued");
    assert.equal(store.getAgent(a)!.result, "x");
    assert.equal(store.lastEventId(), before + 2);
  }
});

Deno.test("a queued follow-up's prompt and mode are kept on the row", async () => {
  await using store = await tempStore();
  {
    const id = store.insertAgent(sampleAgent()).id;
    store.updateAgent(id, { pending_prompt: "next", pending_permission_mode: "plan" });
    const record = store.getProcessRecord(id)!;
    assert.equal(record.pending_prompt, "next");
    assert.equal(record.pending_permission_mode, "plan");
  }
});
