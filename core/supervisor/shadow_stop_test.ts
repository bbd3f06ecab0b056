/**
 * An agent's shadows stop with it: cancel and delete end a shadow stuck on its upstream (the fake's
 * `FAKE_STUCK_UPSTREAM`: it ignores SIGTERM and has a detached child) with the tree kill, before
 * they report done; a queued shadow never starts; no shadow starts for a cancelled agent.
 */
import assert from "node:assert/strict";
import { fakePrompt } from "../testing/mod.ts";
import {
  type Harness,
  markedProcesses,
  waitFor,
  waitForStatus,
  withEngine,
} from "../engine/testing_harness.ts";
import { type Agent, InvalidStateError } from "../models/mod.ts";

const NAMING = { HERO_ORCHESTRATOR_SHADOWS: "naming" };

function shadowsOf(h: Harness, parentId: string): Agent[] {
  return h.engine.store.listAgents({ parent_id: parentId, kinds: ["shadow"], limit: 10 }).agents;
}

/** The parent's naming shadow once it is stuck: running, retrying, its detached child started. */
async function stuckShadow(h: Harness, parentId: string): Promise<Agent> {
  const shadow = await waitFor("the naming shadow", () => shadowsOf(h, parentId)[0], 15_000);
  await waitFor(
    "the shadow stuck retrying its upstream",
    () => h.engine.store.readMessages(shadow.id, 0, 10).some((m) => m.subtype === "api_retry"),
    15_000,
  );
  // The fake, its sandbox and the detached sleep all carry the shadow's marker.
  await waitFor(
    "the shadow's detached child",
    async () => (await markedProcesses([shadow.id])).length >= 2,
    15_000,
  );
  return h.engine.store.getAgent(shadow.id)!;
}

Deno.test("cancel stops the agent's stuck shadow (tree kill) before it reports cancelled", async () => {
  await withEngine({ env: NAMING }, async (h) => {
    const parent = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { text: "FAKE_STUCK_UPSTREAM" }, { hang: true }]),
      cwd: h.cwd,
    });
    await waitForStatus(h, parent.id, "running");
    const shadow = await stuckShadow(h, parent.id);
    assert.equal(shadow.status, "running");

    const cancelled = await h.engine.supervisor.cancel(parent.id);
    assert.equal(cancelled.status, "cancelled");
    // Reported done only once the shadow and everything it started are gone.
    assert.deepEqual(await markedProcesses([shadow.id, parent.id]), []);
    const after = h.engine.store.getAgent(shadow.id)!;
    assert.deepEqual([after.status, after.error_code], ["cancelled", "cancelled"]);
    assert.equal(after.error_message, "Its agent was cancelled");
    // The shadow manager does not retry it, and no new shadow starts for a cancelled agent.
    await h.engine.shadows.close();
    assert.deepEqual(shadowsOf(h, parent.id).map((s) => s.status), ["cancelled"]);
    assert.throws(
      () =>
        h.engine.supervisor.createShadow({
          parent: cancelled,
          prompt: "x",
          name: "late shadow",
          model: "claude-haiku-4-5",
        }),
      InvalidStateError,
    );
  });
});

Deno.test("delete stops a finished agent's stuck shadow, then deletes it with the agent", async () => {
  await withEngine({ env: NAMING }, async (h) => {
    const parent = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { text: "FAKE_STUCK_UPSTREAM" }, { result: {} }]),
      cwd: h.cwd,
    });
    const shadow = await stuckShadow(h, parent.id);
    await waitForStatus(h, parent.id, "awaiting_review");
    h.engine.supervisor.complete(parent.id);

    await h.engine.supervisor.delete(parent.id);
    assert.deepEqual(await markedProcesses([shadow.id]), []);
    assert.equal(h.engine.store.getAgent(shadow.id), undefined);
    assert.equal(h.engine.store.getAgent(parent.id), undefined);
  });
});

Deno.test("a queued shadow of a cancelled agent is cancelled and never starts", async () => {
  await withEngine({
    env: NAMING,
    tune: (s) => (s.shadows.maxConcurrent = 1),
  }, async (h) => {
    const hang = fakePrompt([{ init: true }, { text: "FAKE_STUCK_UPSTREAM" }, { hang: true }]);
    const first = h.engine.supervisor.create({ prompt: hang, cwd: h.cwd });
    const busy = await stuckShadow(h, first.id);
    const second = h.engine.supervisor.create({ prompt: hang, cwd: h.cwd });
    const queued = await waitFor("the second shadow, queued", () => shadowsOf(h, second.id)[0]);
    assert.equal(queued.status, "queued");

    await h.engine.supervisor.cancel(second.id);
    const after = h.engine.store.getAgent(queued.id)!;
    assert.deepEqual([after.status, after.started_at, after.pid], ["cancelled", null, null]);
    // The first agent's shadow is not its sibling's business.
    assert.equal(h.engine.store.getAgent(busy.id)!.status, "running");
    await h.engine.supervisor.cancel(first.id);
    assert.deepEqual(await markedProcesses([busy.id, queued.id]), []);
  });
});
