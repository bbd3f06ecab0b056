/** The queue: FIFO per lane, caps per lane, rebuilt from the database, turns read from the row. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { newId } from "../models/mod.ts";
import { openStore, type Store } from "../store/mod.ts";
import { AgentQueue, dispatchWithin, type QueueEntry, turnOf } from "./queue.ts";
import type { LiveSession } from "./session.ts";

const CAPS = { standard: 2, shadow: 1 };

async function withStore(fn: (store: Store) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hero_queue_" });
  const store = openStore(`${dir}/db.sqlite`);
  try {
    await fn(store);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function insert(store: Store, kind: "standard" | "planner" | "shadow", createdAt: number) {
  return store.insertAgent({
    id: newId(),
    prompt: `prompt of ${createdAt}`,
    cwd: "/tmp",
    model: "claude-sonnet-4-6",
    effort: "medium",
    kind,
    created_at: createdAt,
  });
}

/** Runs one dispatch, starting everything offered; returns the ids in the order offered. */
function dispatchAll(queue: AgentQueue, running = { standard: 0, shadow: 0 }): string[] {
  const started: string[] = [];
  queue.dispatch(running, CAPS, (entry) => {
    started.push(entry.id);
    return true;
  });
  return started;
}

Deno.test("queue: each lane is FIFO within its own cap; running agents count against it", () => {
  const queue = new AgentQueue();
  for (const id of ["a1", "a2", "a3"]) queue.push({ id, kind: "standard" });
  for (const id of ["s1", "s2"]) queue.push({ id, kind: "shadow" });
  queue.push({ id: "p1", kind: "planner" });
  assertEquals(queue.size, 6);
  // Two standard slots, one shadow slot: shadows never take an agent's slot or the reverse.
  assertEquals(dispatchAll(queue), ["a1", "a2", "s1"]);
  assertEquals(queue.size, 3);
  assert(!queue.has("a1") && queue.has("a3") && queue.has("s2") && queue.has("p1"));
  // Lanes full: nothing starts.
  assertEquals(dispatchAll(queue, { standard: 2, shadow: 1 }), []);
  // One slot of each freed: the next of each lane, in order.
  assertEquals(dispatchAll(queue, { standard: 1, shadow: 0 }), ["a3", "s2"]);
  assertEquals(dispatchAll(queue, { standard: 1, shadow: 0 }), ["p1"]);
  assertEquals(queue.size, 0);
});

/** A run's session as dispatch sees it: idle since `idleSince` (null: a turn runs), or ending. */
function fakeRun(idleSince: number | null, shadow = false) {
  const session = {
    idleSince,
    exitDueSince: null as number | null,
    ended: false,
    endSession() {
      this.ended = true;
      this.exitDueSince = Date.now();
      this.idleSince = null;
    },
  };
  return { session: session as unknown as LiveSession & typeof session, shadow };
}

Deno.test("dispatchWithin: at the cap the longest-idle session is ended and its slot is given at once", () => {
  const queue = new AgentQueue();
  queue.push({ id: "next", kind: "standard" });
  queue.push({ id: "later", kind: "standard" });
  const working = fakeRun(null);
  const idleLong = fakeRun(1_000);
  const idleShort = fakeRun(2_000);
  const started: string[] = [];
  const start = (entry: QueueEntry) => started.push(entry.id) > 0;
  dispatchWithin(queue, [working, idleLong, idleShort], { standard: 3, shadow: 1 }, start);
  // Two waiting, no free slot: both idle sessions end; the working one is never touched. Their
  // processes only exit now, so both queued agents start in this same dispatch.
  assert(idleLong.session.ended && idleShort.session.ended && !working.session.ended);
  assertEquals(started, ["next", "later"]);

  // Ending sessions (and exiting one-prompt processes) leave their slots free; working ones do not.
  queue.push({ id: "third", kind: "standard" });
  const busy = [fakeRun(null), fakeRun(null)];
  dispatchWithin(queue, [...busy, idleLong, idleShort], { standard: 2, shadow: 1 }, start);
  assertEquals(started, ["next", "later"], "two working processes fill the cap");
  dispatchWithin(queue, [busy[0]!, idleLong, idleShort], { standard: 2, shadow: 1 }, start);
  assertEquals(started, ["next", "later", "third"]);
});

Deno.test("queue: an entry start() skips costs no slot; remove() and duplicate pushes", () => {
  const queue = new AgentQueue();
  for (const id of ["gone", "a", "b", "c"]) queue.push({ id, kind: "standard" });
  queue.push({ id: "a", kind: "standard" });
  assertEquals(queue.size, 4, "an id already queued is not queued twice");
  queue.remove("b");
  queue.remove("nope");
  assertEquals(queue.size, 3);
  const offered: string[] = [];
  queue.dispatch({ standard: 0, shadow: 0 }, CAPS, (entry) => {
    offered.push(entry.id);
    return entry.id !== "gone";
  });
  assertEquals(offered, ["gone", "a", "c"]);
  assertEquals(queue.size, 0);
  // Once taken, an id may be queued again (a follow-up).
  queue.push({ id: "a", kind: "standard" });
  assert(queue.has("a"));
});

Deno.test("queue: the voice flag travels with its entry only", () => {
  const queue = new AgentQueue();
  queue.push({ id: "spoken", kind: "standard" }, { voice: true });
  queue.push({ id: "typed", kind: "standard" });
  const entries: QueueEntry[] = [];
  queue.dispatch({ standard: 0, shadow: 0 }, CAPS, (e) => entries.push(e) > 0);
  assertEquals(entries, [{ id: "spoken", voice: true, rank: 1 }, {
    id: "typed",
    voice: false,
    rank: 1,
  }]);
});

Deno.test("queue: rebuild() queues the database's queued agents oldest first, in their lanes", async () => {
  await withStore((store) => {
    const late = insert(store, "standard", 3_000);
    const early = insert(store, "standard", 1_000);
    const shadow = insert(store, "shadow", 2_000);
    const running = insert(store, "standard", 500);
    store.transition(running.id, "running");
    const queue = new AgentQueue();
    queue.push(late); // already queued (created in this daemon): kept once, in its place
    const rebuilt = queue.rebuild(store);
    assertEquals(rebuilt.map((a) => a.id), [early.id, shadow.id, late.id]);
    assertEquals(queue.size, 3);
    assert(!queue.has(running.id), "only queued agents");
    assertEquals(dispatchAll(queue), [late.id, early.id, shadow.id]);
  });
});

Deno.test("turnOf(): a queued agent's turn is read from its row", async () => {
  await withStore((store) => {
    const fresh = insert(store, "standard", 1);
    assertEquals(turnOf(store, fresh), {
      prompt: fresh.prompt,
      resume: null,
      permissionMode: "bypassPermissions",
      voice: false,
    });
    assertEquals(turnOf(store, insert(store, "planner", 2)).permissionMode, "plan");
    assertEquals(turnOf(store, insert(store, "shadow", 3), { voice: true }), {
      prompt: "prompt of 3",
      resume: null,
      permissionMode: "default",
      voice: true,
    });
    // A follow-up: its prompt and mode wait on the row and resume the agent's session.
    store.transition(fresh.id, "running", { session_id: "sess-1" });
    store.transition(fresh.id, "awaiting_review");
    const queued = store.transition(fresh.id, "queued", {
      pending_prompt: "and now this",
      pending_permission_mode: "plan",
    });
    assertEquals(turnOf(store, queued), {
      prompt: "and now this",
      resume: "sess-1",
      permissionMode: "plan",
      voice: false,
    });
    // Once started, the row no longer holds it.
    const started = store.transition(fresh.id, "running", {
      pending_prompt: null,
      pending_permission_mode: null,
    });
    assertEquals(turnOf(store, started).prompt, fresh.prompt);
  });
});

Deno.test("queue: priority orders a lane (high, normal, low), FIFO within one priority", () => {
  const queue = new AgentQueue();
  queue.push({ id: "n1", kind: "standard" });
  queue.push({ id: "l1", kind: "standard", priority: "low" });
  queue.push({ id: "h1", kind: "standard", priority: "high" });
  queue.push({ id: "n2", kind: "standard", priority: "normal" });
  queue.push({ id: "h2", kind: "standard", priority: "high" });
  queue.push({ id: "s", kind: "shadow", priority: "high" });
  const offered: string[] = [];
  const caps = { standard: 10, shadow: 10 };
  queue.dispatch({ standard: 0, shadow: 0 }, caps, (e) => offered.push(e.id) > 0);
  assertEquals(offered, ["h1", "h2", "n1", "n2", "l1", "s"]);
});
