import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fakePrompt } from "../testing/mod.ts";
import type { Message } from "../models/mod.ts";
import type { Store } from "../store/mod.ts";
import { markedProcesses, waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

const CONTINUE = "storage is back, continue";

function allLines(store: Store, id: string): Message[] {
  const out: Message[] = [];
  for (;;) {
    const page = store.readMessages(id, out.at(-1)?.seq ?? 0, 1000);
    if (page.length === 0) return out;
    out.push(...page);
  }
}

Deno.test("storage failing past its bound pauses the running agents (reason storage), and each continues once when it recovers", async () => {
  const logs: string[] = [];
  await withEngine({
    env: { HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT: CONTINUE },
    log: (level, message) => logs.push(`${level}: ${message}`),
    tune: (s) => {
      s.store.faultBoundMs = 1_500;
      s.store.retryMinMs = 50;
      s.store.retryMaxMs = 200;
      s.supervisor.cancelGraceMs = 500;
    },
  }, async (h) => {
    const { store, supervisor, writer } = h.engine;
    const seen: string[] = [];
    const unsubscribe = h.engine.bus.subscribe((e) => {
      if (e.kind === "agent") seen.push(`${e.agent.id} ${e.agent.status} ${e.agent.pause_reason}`);
    });
    // Two agents that print for longer than the test lasts unless they are stopped.
    const prompt = fakePrompt({ auto: true, steps: [{ lines: 200_000, bytes: 400 }] });
    const ids = [0, 1].map(() => supervisor.create({ prompt, cwd: h.cwd }).id);
    await waitFor(
      "both agents printing",
      () => ids.every((id) => store.getAgent(id)!.last_seq >= 500),
      60_000,
    );
    // Another connection (as another process would) holds the write lock: every write fails busy.
    // The writer's worker commits all the time on its own thread, so this waits for its turn.
    const other = new DatabaseSync(h.engine.paths.dbPath, { timeout: 30_000 });
    other.exec("BEGIN IMMEDIATE");
    let released = false;
    try {
      // Past the bound the agents' processes are stopped although no row can be written yet.
      await waitFor("the agents' processes stopped", async () => {
        return (await markedProcesses(ids)).length === 0;
      }, 60_000);
      const storage = writer.monitor.status();
      assertEquals([storage.state, storage.over_bound], ["storage_busy", true]);
      assert(
        supervisor.quota.admission?.reason.includes("storage"),
        JSON.stringify(supervisor.quota.admission),
      );
      for (const id of ids) assertEquals(store.getAgent(id)!.status, "running");
      other.exec("ROLLBACK");
      released = true;
      const done = await Promise.all(
        ids.map((id) => waitForStatus(h, id, "awaiting_review", 90_000)),
      );
      for (const [i, id] of ids.entries()) {
        const agent = done[i]!;
        // Paused (never failed) with the reason, then continued once on its session.
        assert(seen.includes(`${id} paused storage`), seen.join("\n"));
        const statuses = seen.filter((s) => s.startsWith(`${id} `)).map((s) => s.split(" ")[1])
          .filter((status, n, all) => status !== all[n - 1]);
        assertEquals(statuses, [
          "queued",
          "running",
          "paused",
          "queued",
          "running",
          "awaiting_review",
        ]);
        assertEquals(agent.result, CONTINUE);
        assertEquals([agent.pause_reason, agent.resume_at, agent.paused_at], [null, null, null]);
        await supervisor.settled(id);
        const lines = allLines(store, id);
        assertEquals(lines.filter((m) => m.type === "system" && m.subtype === "init").length, 2);
        // Every line the stopped process printed was stored once storage returned, in order.
        assertEquals(lines.map((m) => m.seq), lines.map((_, n) => n + 1));
        assertEquals(lines.length, store.getAgent(id)!.last_seq);
      }
      assertEquals(writer.monitor.status().state, "ok");
      assertEquals(supervisor.quota.admission, null);
      assert(logs.some((l) => l.includes("Cannot store lines") || l.includes("retrying")));
    } finally {
      unsubscribe();
      if (!released) other.exec("ROLLBACK");
      other.close();
    }
  });
});
