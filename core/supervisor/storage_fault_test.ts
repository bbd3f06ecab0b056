import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fakePrompt } from "../testing/mod.ts";
import { waitForStatus, withEngine } from "../engine/testing_harness.ts";

Deno.test("a result whose status write hits a held lock is retried: the agent still reaches awaiting_review", async () => {
  const logs: string[] = [];
  await withEngine({ log: (level, message) => logs.push(`${level}: ${message}`) }, async (h) => {
    const states: string[] = [];
    const monitor = h.engine.writer.monitor;
    // Another connection (as another process would) takes the write lock the moment the result
    // line is committed, before the supervisor records the status; it lets go on the next turn of
    // the event loop, after the first attempt waited out busy_timeout and failed.
    const other = new DatabaseSync(h.engine.paths.dbPath, { timeout: 30_000 });
    let locked = false;
    const unsubscribe = h.engine.bus.subscribe((e) => {
      if (e.kind !== "message" || e.type !== "result" || locked) return;
      locked = true;
      other.exec("BEGIN IMMEDIATE");
      setTimeout(() => {
        states.push(monitor.status().state);
        other.exec("ROLLBACK");
      }, 0);
    });
    try {
      const a = h.engine.supervisor.create({
        prompt: fakePrompt({ auto: true, steps: [{ text: "done" }] }),
        cwd: h.cwd,
      });
      const review = await waitForStatus(h, a.id, "awaiting_review", 60_000);
      assertEquals(review.result, "done");
      assert(locked, "the lock was taken");
      assertEquals(states, ["storage_busy"]);
      assertEquals(monitor.status().state, "ok");
      assert(logs.includes("warn: Cannot record the result yet; retrying"), logs.join("\n"));
      const settled = await h.engine.supervisor.settled(a.id);
      assertEquals([settled.status, settled.exit_code], ["awaiting_review", 0]);
    } finally {
      unsubscribe();
      other.close();
    }
  });
});
