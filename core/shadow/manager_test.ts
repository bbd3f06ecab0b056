/** Shadows in the supervisor with the fake claude: own slots, fallbacks, recovery, deletion. */
import assert from "node:assert/strict";
import { fakePrompt } from "../testing/mod.ts";
import { waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";
import { openEngine } from "../engine/mod.ts";
import { testEnv } from "../engine/testing_harness.ts";
import { newId } from "../models/mod.ts";
import { fallbackTitle } from "./text.ts";

Deno.test("shadows run in slots of their own: never an agent's, never waiting behind agents", async () => {
  await withEngine({
    env: { HERO_ORCHESTRATOR_SHADOWS: "naming" },
    tune: (s) => {
      s.supervisor.maxConcurrent = 1;
      s.shadows.maxConcurrent = 1;
    },
  }, async (h) => {
    const hang = fakePrompt([{ init: true }, { text: "busy" }, { hang: true }]);
    const a = h.engine.supervisor.create({ prompt: hang, cwd: h.cwd });
    const b = h.engine.supervisor.create({ prompt: hang, cwd: h.cwd });
    await waitForStatus(h, a.id, "running");
    // Both naming shadows run (one at a time) although the one agent slot is taken.
    const shadows = () =>
      h.engine.store.listAgents({ kinds: ["shadow"], limit: 10 }).agents.filter((s) =>
        s.status === "completed"
      );
    await waitFor("both naming shadows", () => shadows().length === 2, 15_000);
    assert.equal(h.engine.store.getAgent(b.id)!.status, "queued", "a shadow took an agent's slot");
    // The fake echoes the naming prompt: no usable title, so the fallback stays.
    assert.equal(h.engine.store.getAgent(a.id)!.name, fallbackTitle(hang));
    await h.engine.supervisor.cancel(a.id);
    await waitForStatus(h, b.id, "running");
    await h.engine.supervisor.cancel(b.id);
    // Deleting an agent deletes its finished shadows.
    await h.engine.supervisor.delete(a.id);
    assert.equal(h.engine.store.listAgents({ parent_id: a.id, limit: 10 }).agents.length, 0);
    assert.equal(h.engine.store.listAgents({ parent_id: b.id, limit: 10 }).agents.length, 1);
  });
});

Deno.test("a named agent gets no naming shadow", async () => {
  await withEngine({ env: { HERO_ORCHESTRATOR_SHADOWS: "naming" } }, async (h) => {
    const named = h.engine.supervisor.create({ prompt: "hi", cwd: h.cwd, name: "Mine" });
    assert.equal(named.name, "Mine");
    await waitForStatus(h, named.id, "awaiting_review");
    const unnamed = h.engine.supervisor.create({ prompt: "hello there", cwd: h.cwd, name: "  " });
    assert.equal(unnamed.name, "hello there");
    await waitForStatus(h, unnamed.id, "awaiting_review");
    await h.engine.shadows.close();
    assert.equal(h.engine.store.listAgents({ parent_id: named.id, limit: 5 }).agents.length, 0);
    assert.equal(h.engine.store.listAgents({ parent_id: unnamed.id, limit: 5 }).agents.length, 1);
  });
});

Deno.test("recovery: shadows left queued are cancelled, left in review are completed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_engine_" });
  try {
    await Deno.mkdir(`${dir}/work`);
    const env = testEnv(dir, { HERO_ORCHESTRATOR_SHADOWS: "naming" });
    const first = await openEngine({ env, log: () => {} });
    const parent = first.store.insertAgent({
      id: newId(),
      prompt: "p",
      cwd: `${dir}/work`,
      model: "claude-haiku-4-5",
      effort: "low",
      kind: "standard",
    });
    const queued = first.store.insertAgent({
      id: newId(),
      prompt: "q",
      cwd: `${dir}/work`,
      model: "claude-haiku-4-5",
      effort: "none",
      kind: "shadow",
      parent_id: parent.id,
    });
    const review = first.store.insertAgent({
      id: newId(),
      prompt: "r",
      cwd: `${dir}/work`,
      model: "claude-haiku-4-5",
      effort: "none",
      kind: "shadow",
      parent_id: parent.id,
    });
    first.store.transition(review.id, "running", {});
    first.store.transition(review.id, "awaiting_review", {});
    first.store.transition(parent.id, "cancelled", {});
    await first.close();
    const second = await openEngine({ env, log: () => {} });
    try {
      assert.equal(second.store.getAgent(queued.id)!.status, "cancelled");
      assert.equal(second.store.getAgent(queued.id)!.error_code, "daemon_restart");
      assert.equal(second.store.getAgent(review.id)!.status, "completed");
      assert.equal(second.supervisor.queuedCount, 0);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
