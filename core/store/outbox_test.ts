/** The store's outbox: changes reach `onCommit` only after COMMIT, exactly once, never on ROLLBACK. */
import assert from "node:assert/strict";
import { openStore, type Store, type StoreChange } from "./mod.ts";
import { sampleAgent, tempDbPath } from "./_testing.ts";

/** A store whose `onCommit` deliveries are recorded with the transaction state at that moment. */
async function recordingStore() {
  const { path, cleanup } = await tempDbPath();
  const delivered: Array<{ changes: StoreChange[]; inTransaction: boolean; durable: boolean }> = [];
  // A second connection sees only committed rows: proof the delivery came after COMMIT.
  let reader: Store | undefined;
  const store: Store = openStore(path, {
    onCommit(changes) {
      reader ??= openStore(path);
      const last = changes.at(-1)!;
      delivered.push({
        changes: [...changes],
        inTransaction: inTransaction(store),
        durable: last.kind === "agent"
          ? reader.getAgent(last.agent.id)?.updated_at === last.agent.updated_at
          : last.kind === "approval"
          ? reader.getApproval(last.approval.id)?.state === last.approval.state
          : reader.getAgent(last.agent_id) === undefined,
      });
    },
  });
  return {
    store,
    delivered,
    async [Symbol.asyncDispose]() {
      reader?.close();
      store.close();
      await cleanup();
    },
  };
}

/** Whether a write transaction is open on `store` (a nested `write()` throws then). */
function inTransaction(store: Store): boolean {
  try {
    store.write(() => {});
    return false;
  } catch {
    return true;
  }
}

Deno.test("outbox: a committed write is delivered once, after COMMIT, with its event id", async () => {
  await using t = await recordingStore();
  const agent = t.store.insertAgent(sampleAgent());
  assert.equal(t.delivered.length, 1);
  assert.deepEqual(t.delivered[0], {
    changes: [{ kind: "agent", id: t.store.lastEventId(), agent }],
    inTransaction: false,
    durable: true,
  });
  const running = t.store.transition(agent.id, "running", { pid: 42 });
  const updated = t.store.updateAgent(agent.id, { name: "x" });
  assert.deepEqual(t.delivered.slice(1).map((d) => d.changes), [
    [{ kind: "agent", id: 2, agent: running }],
    [{ kind: "agent", id: 3, agent: updated }],
  ]);
  assert.ok(t.delivered.every((d) => d.durable && !d.inTransaction));
});

Deno.test("outbox: a write() holding many changes delivers them together, in id order, after COMMIT", async () => {
  await using t = await recordingStore();
  const a = t.store.insertAgent(sampleAgent());
  const b = t.store.insertAgent(sampleAgent());
  t.delivered.length = 0;
  let seenInside = -1;
  const moved = t.store.write(() => {
    const rows = [t.store.transition(a.id, "running"), t.store.transition(b.id, "running")];
    seenInside = t.delivered.length;
    return rows;
  });
  assert.equal(seenInside, 0, "nothing delivered before COMMIT");
  assert.equal(t.delivered.length, 1);
  assert.deepEqual(t.delivered[0]!.changes, [
    { kind: "agent", id: 3, agent: moved[0] },
    { kind: "agent", id: 4, agent: moved[1] },
  ]);
  assert.ok(t.delivered[0]!.durable && !t.delivered[0]!.inTransaction);
  // transitionMany: one transaction, one delivery of every row it moved.
  const failed = t.store.transitionMany([a.id, b.id], "failed", { finished_at: 1 });
  assert.equal(t.delivered.length, 2);
  assert.deepEqual(t.delivered[1]!.changes.map((c) => c.kind === "agent" && c.agent), failed);
});

Deno.test("outbox: nothing is delivered for a rolled-back transaction", async () => {
  await using t = await recordingStore();
  const a = t.store.insertAgent(sampleAgent());
  t.delivered.length = 0;
  assert.throws(
    () =>
      t.store.write(() => {
        t.store.transition(a.id, "running");
        t.store.updateAgent(a.id, { name: "lost" });
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.equal(t.delivered.length, 0);
  assert.equal(t.store.getAgent(a.id)!.status, "queued");
  // An illegal move rolls back on its own: nothing delivered either.
  assert.throws(() => t.store.transition(a.id, "completed"));
  assert.equal(t.delivered.length, 0);
  // The next committed write delivers only its own change.
  const named = t.store.updateAgent(a.id, { name: "kept" });
  assert.deepEqual(t.delivered.map((d) => d.changes), [[
    { kind: "agent", id: t.store.lastEventId(), agent: named },
  ]]);
});

Deno.test("outbox: deleteAgent() delivers its tombstone after COMMIT", async () => {
  await using t = await recordingStore();
  const a = t.store.insertAgent(sampleAgent());
  t.delivered.length = 0;
  const gone = t.store.deleteAgent(a.id);
  assert.deepEqual(t.delivered, [{
    changes: [{ kind: "agent_deleted", id: gone.event_id, agent_id: a.id, ts: gone.deleted_at }],
    inTransaction: false,
    durable: true,
  }]);
});

Deno.test("outbox: a receiver that writes gets its own change after the current delivery, in id order", async () => {
  const { path, cleanup } = await tempDbPath();
  const ids: number[] = [];
  let writeOn: string | null = null;
  const store: Store = openStore(path, {
    onCommit(changes) {
      for (const change of changes) {
        ids.push(change.id);
        // Writes again on the batch's first change: that must not overtake the batch's rest.
        if (change.kind === "agent" && change.agent.id === writeOn) {
          writeOn = null;
          store.updateAgent(change.agent.id, { name: "named" });
        }
      }
    },
  });
  try {
    const a = store.insertAgent(sampleAgent());
    const b = store.insertAgent(sampleAgent({ name: "b" }));
    ids.length = 0;
    writeOn = a.id;
    store.write(() => {
      store.transition(a.id, "running");
      store.transition(b.id, "running");
    });
    assert.deepEqual(ids, [3, 4, 5]);
  } finally {
    store.close();
    await cleanup();
  }
});

Deno.test("outbox: reads and writes that change no agent deliver nothing", async () => {
  await using t = await recordingStore();
  const a = t.store.insertAgent(sampleAgent());
  t.delivered.length = 0;
  t.store.getAgent(a.id);
  t.store.recordTurnUsage(a.id, 1, {
    input_tokens: 1,
    output_tokens: 1,
    cache_read_tokens: 0,
    cache_creation_tokens: 0,
    cost_usd: 0,
  });
  t.store.write(() => {});
  assert.equal(t.delivered.length, 0);
});
