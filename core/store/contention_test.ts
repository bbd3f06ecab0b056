/**
 * T22's "every write transaction BEGIN IMMEDIATE", as behaviour: a read-then-write transaction
 * that began DEFERRED fails with SQLITE_BUSY when another connection holds the write lock at its
 * first write, whatever busy_timeout says (SQLite cannot wait there: the read snapshot would be
 * stale). So each read-then-write path of the store runs while another process commits back to
 * back, and none may fail; a deferred transaction under the same load shows the load bites.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { connectionOf } from "./_connection.ts";
import { storageFaultOf } from "./db.ts";
import { MessageWriter, openStore, type PendingLine, StoreBusyError } from "./mod.ts";
import { jsonLine, sampleAgent, startHelper, tempDbPath } from "./_testing.ts";

const ROUNDS = 30;

/** Starts `testdata/churn_lock.ts` on `path` for `ms`; resolves once it committed once. */
async function startChurn(path: string, ms: number): Promise<Deno.ChildProcess> {
  return (await startHelper("churn_lock.ts", [path, `${ms}`], "CHURNING")).child;
}

function line(agentId: string, i: number, pad = 0): PendingLine {
  return {
    agentId,
    bytes: jsonLine({ type: "assistant", i, pad: "x".repeat(pad) }),
    ts: Date.now(),
    type: "assistant",
    subtype: null,
    parseError: false,
    eofNoNewline: false,
  };
}

function churnCommits(db: DatabaseSync): number {
  return (db.prepare("SELECT count(*) AS n FROM lock_churn").get() as { n: number }).n;
}

Deno.test("store read-then-write paths begin IMMEDIATE: under another process committing back to back none fails with SQLITE_BUSY, where a deferred transaction does (T22)", async () => {
  const { path, cleanup } = await tempDbPath();
  const store = openStore(path);
  const writer = new MessageWriter(store);
  await writer.ready();
  const churn = await startChurn(path, 60_000);
  const raw = new DatabaseSync(path, { timeout: 5_000 });
  try {
    const seed = store.insertAgent(sampleAgent());
    // The control: a deferred read-then-write under this load fails at once, busy_timeout or not.
    let deferredBusy = 0;
    for (let i = 0; i < 50 && deferredBusy < 3; i++) {
      try {
        raw.exec("BEGIN");
        raw.prepare("SELECT name FROM agents WHERE id = ?").get(seed.id);
        raw.prepare("UPDATE agents SET name = ? WHERE id = ?").run(`deferred ${i}`, seed.id);
        raw.exec("COMMIT");
      } catch (err) {
        if (raw.isTransaction) raw.exec("ROLLBACK");
        assert.equal(storageFaultOf(err), "busy", String(err));
        deferredBusy++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.ok(deferredBusy >= 3, `a deferred read-then-write failed ${deferredBusy} times`);

    const before = churnCommits(connectionOf(store).db);
    for (let round = 0; round < ROUNDS; round++) {
      // Every call below reads rows and then writes in one transaction; each must wait for the
      // lock (SQLite's busy handler) and then succeed.
      const agent = store.insertAgent(sampleAgent());
      store.transition(agent.id, "running");
      store.updateAgent(agent.id, { name: `round ${round}` });
      store.write(() => {
        const now = store.getAgent(agent.id)!;
        store.updateAgent(agent.id, { name: `${now.name} again` });
      });
      // The line writer's transaction reads each agent's last_seq, then inserts (its thread).
      const results = await Promise.all([0, 1, 2].map((i) => writer.append(line(agent.id, i))));
      assert.deepEqual(results.map((r) => r.seq), [1, 2, 3]);
      store.transition(agent.id, "awaiting_review");
      assert.equal(store.transitionMany([agent.id], "completed").length, 1);
      if (round % 2 === 0) store.deleteAgent(agent.id);
      assert.equal(
        store.getAgent(agent.id)?.name ?? null,
        round % 2 === 0 ? null : `round ${round} again`,
      );
    }
    // The other process kept committing between (and during) them.
    const during = churnCommits(connectionOf(store).db) - before;
    assert.ok(during >= ROUNDS, `the other process committed ${during} times meanwhile`);
    assert.equal(writer.status().state, "ok");
  } finally {
    raw.close();
    try {
      churn.kill("SIGTERM");
    } catch {
      // already gone
    }
    await churn.status;
    await writer.close();
    store.close();
    await cleanup();
  }
});

/** Starts `testdata/hold_lock.ts` on `path` for `ms`; resolves once it holds the lock. */
async function holdLock(path: string, ms: number): Promise<Deno.ChildProcess> {
  return (await startHelper("hold_lock.ts", [path, `${ms}`], "LOCKED")).child;
}

Deno.test("a store write waits out its own line writer's commits past writeWaitMs, and still fails with busy at once on another process's lock", async () => {
  const { path, cleanup } = await tempDbPath();
  // The event loop's store: 1 ms for a lock that is not ours (the daemon's default is 250 ms).
  const store = openStore(path, { writeWaitMs: 1 });
  const writer = new MessageWriter(store, { maxRows: 500 });
  await writer.ready();
  try {
    const streaming = store.insertAgent(sampleAgent());
    const other = store.insertAgent(sampleAgent());
    // 8 MiB of lines: batches of 500 × 4 KiB, each commit far longer than 1 ms.
    const appended = Array.from(
      { length: 2_000 },
      (_, i) => writer.append(line(streaming.id, i, 4_096)),
    );
    let overlapping = 0;
    let writes = 0;
    while (writer.status().held_lines > 0) {
      // Lands while a batch commits in the writer's thread (the next one goes out as soon as the
      // last is back): without waiting for it, this fails with busy after 1 ms.
      store.updateAgent(other.id, { name: `write ${writes++}` });
      if (writer.status().held_lines > 0) overlapping++;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await Promise.all(appended);
    assert.ok(overlapping >= 3, `${overlapping} of ${writes} writes met the writer's commits`);
    assert.equal(store.getAgent(streaming.id)?.last_seq, 2_000);

    // Another process's lock is not waited out: busy after the short wait, nothing blocked long.
    const holder = await holdLock(path, 1_500);
    const started = performance.now();
    assert.throws(() => store.updateAgent(other.id, { name: "locked out" }), StoreBusyError);
    const ms = performance.now() - started;
    assert.ok(ms < 500, `the busy error took ${ms} ms`);
    assert.equal((await holder.status).code, 0);
    store.updateAgent(other.id, { name: "after" });
  } finally {
    await writer.close();
    store.close();
    await cleanup();
  }
});
