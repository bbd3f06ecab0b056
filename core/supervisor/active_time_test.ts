/**
 * Active time (issue 13, item 9): an agent's `active_ms` grows only while its process runs a
 * turn; queued time, review time between follow-ups and idle time do not count.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { fakePrompt } from "../testing/mod.ts";
import { waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

const sleepy = (ms: number) => fakePrompt({ auto: true, steps: [{ sleep: ms }] });

Deno.test("active time counts running turns only: not the queue, not review between follow-ups", async () => {
  await withEngine({ tune: (s) => (s.supervisor.maxConcurrent = 1) }, async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: sleepy(900), cwd: h.cwd });
    // With one slot, b waits in the queue while a runs its 900 ms turn.
    const b = s.create({ prompt: sleepy(200), cwd: h.cwd });
    const running = await waitForStatus(h, a.id, "running");
    assert(running.active_since !== null, "a running agent has a current stretch");
    assertEquals(h.engine.store.getAgent(b.id)!.active_since, null, "queued: no stretch");

    const first = await waitForStatus(h, a.id, "awaiting_review");
    assertEquals(first.active_since, null);
    assert(first.active_ms >= 900, `the 900 ms turn counts: ${first.active_ms}`);
    assert(first.active_ms <= first.updated_at - first.created_at);

    const bDone = await waitForStatus(h, b.id, "awaiting_review");
    const bWall = bDone.updated_at - bDone.created_at;
    assert(bDone.active_ms >= 200, `b's own turn counts: ${bDone.active_ms}`);
    assert(
      bDone.active_ms <= bWall - 600,
      `b's time in the queue does not (${bDone.active_ms} of ${bWall})`,
    );

    // Time in review does not count: the figure stands still while nothing runs.
    await s.settled(a.id);
    await new Promise((r) => setTimeout(r, 700));
    assertEquals(h.engine.store.getAgent(a.id)!.active_ms, first.active_ms);

    // A follow-up's turn adds its own running time, and only that.
    await s.followUp(a.id, sleepy(400));
    await waitFor(
      "a follow-up stretch",
      () => h.engine.store.getAgent(a.id)!.active_since !== null,
    );
    const second = await waitForStatus(h, a.id, "awaiting_review");
    assertEquals(second.active_since, null);
    assert(second.active_ms >= first.active_ms + 400, `${first.active_ms} → ${second.active_ms}`);
    const wall = second.updated_at - second.created_at;
    assert(second.active_ms <= wall - 700, `review time excluded (${second.active_ms} of ${wall})`);

    // Completing keeps the figure; the CLI/API see the same number.
    const done = s.complete(a.id);
    assertEquals([done.active_ms, done.active_since], [second.active_ms, null]);
  });
});
