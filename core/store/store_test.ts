import assert from "node:assert/strict";
import { Agent, type AgentStatus, InvalidTransitionError, newId } from "../models/mod.ts";
import {
  AgentNotFoundError,
  MessageWriter,
  openStore,
  storageFaultOf,
  StoreBusyError,
} from "./mod.ts";
import { connectionOf } from "./_connection.ts";
import { SELECT_SIZES_BEFORE } from "./messages.ts";
import { sampleAgent, startHelper, tempDbPath, tempStore } from "./_testing.ts";

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
    fork_session_id: null,
    fork_at: null,
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

  const all = pageAll({ limit: 100 });
  assert.equal(all.length, 10_000);
  assert.equal(new Set(all).size, 10_000);
  assert.deepEqual(all, [...ids].reverse());
  // A deep page costs what the first one does: the cursor is a range seek on the key, read in
  // order, neither an OFFSET walk nor a sort of the whole table (the timing is bench/scale.ts,
  // `list.*`, against the same reads through Store).
  const pagePlan = (where: string, ...values: string[]) =>
    connectionOf(store).db.prepare(
      `EXPLAIN QUERY PLAN SELECT * FROM agents WHERE ${where} ORDER BY id DESC LIMIT ?`,
    ).all(...values, 101).map((r) => String(r.detail)).join("\n");
  for (const plan of [pagePlan("id < ?", "x"), pagePlan("cwd = ? AND id < ?", "/w/b", "x")]) {
    assert.match(plan, /SEARCH agents USING .*id<\?/, plan);
    assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
  }

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

  // Most recently used first (agents 9999, 9998, 9997 are the newest of /w/a, /w/c, /w/b); ties
  // (the same millisecond) by path.
  const last = (i: number) => store.getAgent(ids[i]!)!.created_at;
  assert.deepEqual(
    store.knownCwds(),
    [
      { cwd: "/w/a", count: 3334, last_used_at: last(9999) },
      { cwd: "/w/b", count: 3333, last_used_at: last(9997) },
      { cwd: "/w/c", count: 3333, last_used_at: last(9998) },
    ].sort((x, y) => y.last_used_at - x.last_used_at || (x.cwd < y.cwd ? -1 : 1)),
  );
});

Deno.test("knownCwds() orders by last use, counts per cwd, skips excluded kinds and is bounded", async () => {
  await using store = await tempStore();
  const add = (cwd: string, created_at: number, kind: "standard" | "planner" | "shadow") =>
    store.insertAgent(sampleAgent({ cwd, created_at, kind }));
  add("/p/old", 100, "standard");
  add("/p/old", 200, "planner");
  add("/p/new", 300, "standard");
  add("/p/tie-b", 250, "standard");
  add("/p/tie-a", 250, "standard");
  add("/p/new", 900, "shadow"); // newer, but a shadow
  add("/p/shadows-only", 1000, "shadow");
  assert.deepEqual(store.knownCwds({ excludeKinds: ["shadow"] }), [
    { cwd: "/p/new", count: 1, last_used_at: 300 },
    { cwd: "/p/tie-a", count: 1, last_used_at: 250 },
    { cwd: "/p/tie-b", count: 1, last_used_at: 250 },
    { cwd: "/p/old", count: 2, last_used_at: 200 },
  ]);
  assert.deepEqual(store.knownCwds().slice(0, 2), [
    { cwd: "/p/shadows-only", count: 1, last_used_at: 1000 },
    { cwd: "/p/new", count: 2, last_used_at: 900 },
  ]);
  assert.deepEqual(
    store.knownCwds({ limit: 2, excludeKinds: ["shadow"] }).map((c) => c.cwd),
    ["/p/new", "/p/tie-a"],
  );
  assert.throws(() => store.knownCwds({ limit: 0 }), RangeError);
  // One covering index scan: no table rows are read.
  const plan = connectionOf(store).db.prepare(
    `EXPLAIN QUERY PLAN SELECT cwd, count(*) AS count, max(created_at) AS last_used_at FROM agents
     WHERE kind NOT IN (SELECT value FROM json_each(?))
     GROUP BY cwd ORDER BY last_used_at DESC, cwd LIMIT ?`,
  ).all("[]", 10).map((r) => String(r.detail)).join("\n");
  assert.match(plan, /SCAN agents USING COVERING INDEX agents_by_cwd_kind/, plan);
});

Deno.test("readMessagesBefore() returns the newest lines below a seq in seq order, on the (agent, seq) key", async () => {
  await using store = await tempStore();
  const { id } = store.insertAgent(sampleAgent());
  const other = store.insertAgent(sampleAgent()).id;
  const writer = new MessageWriter(store);
  const append = (agentId: string, n: number) =>
    writer.append({
      agentId,
      bytes: new Uint8Array(10).fill(n % 256),
      ts: Date.now(),
      type: "assistant",
      subtype: null,
      parseError: false,
      eofNoNewline: false,
    });
  await Promise.all(Array.from({ length: 1500 }, (_, i) => append(id, i)));
  await Promise.all(Array.from({ length: 5 }, (_, i) => append(other, i)));
  await writer.close();

  const seqs = (ms: Array<{ seq: number }>) => ms.map((m) => m.seq);
  assert.deepEqual(seqs(store.readMessagesBefore(id, 1501, 3)), [1498, 1499, 1500]);
  assert.deepEqual(seqs(store.readMessagesBefore(id, 10_000, 3)), [1498, 1499, 1500]);
  assert.deepEqual(seqs(store.readMessagesBefore(id, 4, 10)), [1, 2, 3]);
  assert.deepEqual(store.readMessagesBefore(id, 1, 10), []);
  const page = store.readMessagesBefore(id, 1001, 200);
  assert.equal(page.length, 200);
  assert.deepEqual(seqs(page), Array.from({ length: 200 }, (_, i) => 801 + i), "ascending");
  assert.ok(page.every((m) => m.agent_id === id && m.byte_length === 10));
  assert.equal(store.readMessagesBefore(id, 1501, 5000).length, 1000, "limit clamped to 1000");
  // The byte budget keeps the lines nearest before_seq (the first one always).
  assert.deepEqual(seqs(store.readMessagesBefore(id, 101, 100, { maxBytes: 35 })), [98, 99, 100]);
  assert.deepEqual(seqs(store.readMessagesBefore(id, 101, 100, { maxBytes: 1 })), [100]);
  assert.deepEqual(seqs(store.readMessagesBefore(other, 1501, 100)), [1, 2, 3, 4, 5]);
  assert.equal(store.hasMessageBefore(id, 2), true);
  assert.equal(store.hasMessageBefore(id, 1), false);
  assert.equal(store.hasMessageBefore(other, 1501), true);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => store.readMessagesBefore(id, bad, 10), RangeError, String(bad));
  }
  assert.throws(() => store.readMessagesBefore(id, 10, 0), RangeError);
  assert.throws(() => store.readMessagesBefore("ghost", 10, 10), AgentNotFoundError);

  // Index-backed: a SEARCH on the primary key (agent_key, seq), never a scan or a sort.
  const plan = connectionOf(store).db.prepare(`EXPLAIN QUERY PLAN ${SELECT_SIZES_BEFORE}`)
    .all(1, 100, 10).map((r) => String(r.detail)).join("\n");
  assert.match(
    plan,
    /SEARCH messages USING (INDEX sqlite_autoindex_messages_1|PRIMARY KEY) \(agent_key=\? AND seq<\?\)/,
    plan,
  );
  assert.doesNotMatch(plan, /SCAN|TEMP B-TREE/, plan);
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

Deno.test("deleteAgent() removes the agent, its messages and its events, leaving a tombstone", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent());
  const b = store.insertAgent(sampleAgent());
  store.transition(a.id, "cancelled");
  const before = Date.now();
  const gone = store.deleteAgent(a.id);
  assert.equal(store.getAgent(a.id), undefined);
  assert.equal(gone.id, a.id);
  assert.equal(gone.event_id, 4, "event ids are never reused");
  assert.ok(gone.deleted_at >= before);
  assert.deepEqual(store.readEvents(0, 100).map((e) => [e.id, e.kind, e.agent_id, e.seq]), [
    [2, "agent", b.id, null],
    [4, "agent_deleted", a.id, null],
  ]);
  assert.equal(store.readEvents(0, 100).at(-1)!.ts, gone.deleted_at);
  assert.equal(store.lastEventId(), 4);
  store.updateAgent(b.id, { result: "x" });
  assert.equal(store.readEvents(0, 100).at(-1)!.id, 5);
  assert.deepEqual(store.readEvents(0, 100, b.id).map((e) => e.id), [2, 5]);
  assert.throws(() => store.deleteAgent(a.id), AgentNotFoundError);
  assert.equal(store.integrityCheck(), "ok");
});

Deno.test("a tombstone keeps its agent's id when a new agent reuses the deleted row's key", async () => {
  await using store = await tempStore();
  const a = store.insertAgent(sampleAgent());
  store.transition(a.id, "cancelled");
  // `a` has the highest agent_key: SQLite hands it to the next row.
  store.deleteAgent(a.id);
  const c = store.insertAgent(sampleAgent());
  const events = store.readEvents(0, 100);
  assert.deepEqual(events.map((e) => [e.kind, e.agent_id]), [
    ["agent_deleted", a.id],
    ["agent", c.id],
  ]);
  assert.deepEqual(store.readEvents(0, 100, c.id).map((e) => e.kind), ["agent"]);
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

Deno.test("with writeWaitMs, a write meets another process's lock for that long, then throws StoreBusyError (code busy) and leaves the store usable", async () => {
  const { path, cleanup } = await tempDbPath();
  const store = openStore(path, { writeWaitMs: 100 });
  try {
    const { child: holder, drained } = await startHelper("hold_lock.ts", [path, "4000"], "LOCKED");
    const started = performance.now();
    assert.throws(
      () => store.insertAgent(sampleAgent()),
      (err) =>
        err instanceof StoreBusyError && err.code === "busy" &&
        storageFaultOf(err) === "busy" && /database is locked/.test(err.message),
    );
    const waited = performance.now() - started;
    // Not the 5 s busy_timeout the event loop used to wait (the bound is 100 ms; load is slack).
    assert.ok(waited < 2_000, `the write waited ${waited} ms`);
    assert.equal(store.listAgents({ limit: 10 }).agents.length, 0, "nothing was written");
    await drained;
    assert.equal((await holder.status).code, 0);
    assert.ok(store.insertAgent(sampleAgent()).id, "writes go through once the lock is gone");
  } finally {
    store.close();
    await cleanup();
  }
});
