/**
 * Live sessions with the fake claude: the process outlives its turn while the agent is in review,
 * takes the next prompt on stdin (same pid), queues a prompt sent during a turn, is interrupted
 * without being killed, and is closed after the session idle period, on complete and on cancel.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { fakePrompt, type FakeStep } from "../testing/mod.ts";
import {
  type Harness,
  markedProcesses,
  waitFor,
  waitForStatus,
  withEngine,
} from "../engine/testing_harness.ts";

const auto = (steps: FakeStep[]) => fakePrompt({ auto: true, steps });

function withLiveEngine(
  fn: (h: Harness) => Promise<void>,
  idleMs = 60_000,
): Promise<void> {
  return withEngine({ env: { HERO_ORCHESTRATOR_SESSION_IDLE_MS: String(idleMs) } }, fn);
}

function results(h: Harness, id: string): unknown[] {
  return h.engine.store.readMessages(id, 0, 1000)
    .filter((m) => m.type === "result")
    .map((m) => JSON.parse(m.raw).result);
}

/** Texts of the prompts the CLI echoed back (`--replay-user-messages`). */
function replayedPrompts(h: Harness, id: string): string[] {
  return h.engine.store.readMessages(id, 0, 1000)
    .filter((m) => m.type === "user")
    .map((m) => JSON.parse(m.raw))
    .filter((v) => v.isReplay === true)
    .map((v) => v.message.content[0].text);
}

Deno.test("live session: send to an idle process starts a turn in the same process", async () => {
  await withLiveEngine(async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "first", cwd: h.cwd });
    const first = await waitForStatus(h, a.id, "awaiting_review");
    assert(s.isLive(a.id), "the process stays attached in review");
    const procs = await markedProcesses([a.id]);
    assert(procs.includes(first.pid!), "the process is alive");
    const sent = await s.send(a.id, "second");
    assertEquals(sent.delivery, "started");
    assertEquals(sent.agent.status, "running");
    const second = await waitForStatus(h, a.id, "awaiting_review");
    assertEquals(second.pid, first.pid);
    assertEquals(second.session_id, first.session_id);
    assertEquals(second.result, "second");
    assertEquals(results(h, a.id), ["first", "second"]);
    // Every prompt appears exactly once in the transcript.
    assertEquals(replayedPrompts(h, a.id), ["first", "second"]);
    assertEquals(await markedProcesses([a.id]), procs, "no new process");
    // follow_up is an alias: same process again.
    const third = await s.followUp(a.id, "third");
    assertEquals(third.status, "running");
    assertEquals((await waitForStatus(h, a.id, "awaiting_review")).pid, first.pid);
    assertEquals(results(h, a.id), ["first", "second", "third"]);
    // complete ends the session: the process exits, the status stays completed.
    s.complete(a.id);
    const settled = await s.settled(a.id);
    assertEquals([settled.status, settled.exit_code], ["completed", 0]);
    assertEquals(await markedProcesses([a.id]), []);
  });
});

Deno.test("live session: a prompt sent while a turn runs is queued and becomes the next turn", async () => {
  await withLiveEngine(async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: auto([{ sleep: 1_500 }, { text: "slow done" }]), cwd: h.cwd });
    const running = await waitFor("the first turn to start", () => {
      const row = h.engine.store.readMessages(a.id, 0, 10).find((m) => m.subtype === "init");
      return row ? h.engine.store.getAgent(a.id) : undefined;
    });
    assertEquals(running.status, "running");
    const sent = await s.send(a.id, "queued prompt");
    assertEquals(sent.delivery, "queued");
    // The first result does not end the review-less run: the queued turn follows.
    const done = await waitFor("both results", () => {
      const agent = h.engine.store.getAgent(a.id)!;
      return agent.status === "awaiting_review" && results(h, a.id).length === 2
        ? agent
        : undefined;
    });
    assertEquals(results(h, a.id), ["slow done", "queued prompt"]);
    assertEquals(done.pid, running.pid);
    assertEquals(done.result, "queued prompt");
    // The queued prompt's lifecycle is in the transcript.
    const lifecycle = h.engine.store.readMessages(a.id, 0, 1000)
      .filter((m) => m.type === "command_lifecycle")
      .map((m) => JSON.parse(m.raw).state);
    assert(lifecycle.includes("queued"), `lifecycle: ${lifecycle}`);
  });
});

Deno.test("live session: interrupt ends the turn, keeps the process and the output", async () => {
  await withLiveEngine(async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: auto([{ text: "partial work" }, { hang: true }]), cwd: h.cwd });
    await waitFor(
      "the partial text to be stored",
      () => h.engine.store.readMessages(a.id, 0, 100).some((m) => m.type === "assistant"),
    );
    const before = h.engine.store.getAgent(a.id)!;
    assertEquals(before.status, "running");
    const t0 = Date.now();
    const after = await s.interrupt(a.id);
    assertEquals(after.status, "awaiting_review");
    assert(Date.now() - t0 < 5_000, "interrupt answers promptly");
    assert(s.isLive(a.id));
    assert((await markedProcesses([a.id])).includes(before.pid!), "the same process is alive");
    const lines = h.engine.store.readMessages(a.id, 0, 100);
    assert(lines.some((m) => m.type === "assistant" && m.raw.includes("partial work")));
    assertEquals(
      JSON.parse(lines.findLast((m) => m.type === "result")!.raw).subtype,
      "error_during_execution",
    );
    // The next prompt continues in the same process.
    assertEquals((await s.send(a.id, "go on")).delivery, "started");
    const next = await waitForStatus(h, a.id, "awaiting_review");
    assertEquals([next.pid, next.result], [before.pid, "go on"]);
    // Interrupt needs a running turn.
    await rejects(s.interrupt(a.id), (e: { code?: string }) => e.code === "invalid_state");
  });
});

Deno.test("live session: set_permission_mode validates first; set_model needs a configured model", async () => {
  await withLiveEngine(async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "hello", cwd: h.cwd });
    await waitForStatus(h, a.id, "awaiting_review");
    await rejects(
      s.setPermissionMode(a.id, "yolo" as never),
      (e: { code?: string }) => e.code === "invalid_params",
    );
    await rejects(s.setModel(a.id, "gpt-4"), (e: { code?: string }) => e.code === "invalid_model");
    await s.setPermissionMode(a.id, "acceptEdits");
    const model = h.engine.settings.claude.models.find((m) => m !== a.model)!;
    assertEquals((await s.setModel(a.id, model)).model, model);
    // What reached stdin: the record step dumps every line the fake read.
    // Inside the cwd: a sandboxed agent writes nowhere else.
    const record = `${h.cwd}/record.json`;
    await s.send(a.id, auto([{ record }, { text: "recorded" }]));
    await waitFor("the recorded turn", () => results(h, a.id).includes("recorded"));
    const stdin = (JSON.parse(await Deno.readTextFile(record)).stdinLines as string[])
      .map((l) => JSON.parse(l));
    const controls = stdin.filter((l) => l.type === "control_request").map((l) => l.request);
    assertEquals(controls, [
      { subtype: "set_permission_mode", mode: "acceptEdits" },
      { subtype: "set_model", model },
    ]);
  });
});

Deno.test("live session: closed after the idle period; the next send resumes in a new process", async () => {
  await withLiveEngine(async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "first", cwd: h.cwd });
    const first = await waitForStatus(h, a.id, "awaiting_review");
    const settled = await s.settled(a.id);
    // The status stays: only the process went away, cleanly (stdin closed, exit 0).
    assertEquals([settled.status, settled.exit_code], ["awaiting_review", 0]);
    assert(!s.isLive(a.id));
    const sent = await s.send(a.id, "again");
    assertEquals(sent.delivery, "resumed");
    const second = await waitForStatus(h, a.id, "awaiting_review");
    assert(second.pid !== first.pid);
    assertEquals(second.session_id, first.session_id);
    assertEquals(results(h, a.id), ["first", "again"]);
  }, 500);
});

Deno.test("live session: cancel in review stops the process and cancels the agent", async () => {
  await withLiveEngine(async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "first", cwd: h.cwd });
    await waitForStatus(h, a.id, "awaiting_review");
    const cancelled = await s.cancel(a.id);
    assertEquals(cancelled.status, "cancelled");
    assertEquals(await markedProcesses([a.id]), []);
  });
});

Deno.test("live session: the result-exit grace never kills a process waiting for a prompt", async () => {
  await withEngine({
    env: { HERO_ORCHESTRATOR_SESSION_IDLE_MS: "60000" },
    tune: (s) => (s.supervisor.resultExitGraceMs = 200),
  }, async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "first", cwd: h.cwd });
    const first = await waitForStatus(h, a.id, "awaiting_review");
    // Many watchdog rounds (250 ms) past the grace.
    await new Promise((r) => setTimeout(r, 1_500));
    assert(s.isLive(a.id));
    assert((await markedProcesses([a.id])).includes(first.pid!), "the same process is alive");
    assertEquals((await s.send(a.id, "still here")).delivery, "started");
    assertEquals((await waitForStatus(h, a.id, "awaiting_review")).result, "still here");
  });
});

Deno.test("live session: shutdown closes it; the agent stays in review, resumable", async () => {
  await withLiveEngine(async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "first", cwd: h.cwd });
    await waitForStatus(h, a.id, "awaiting_review");
    await s.shutdown();
    const after = h.engine.store.getAgent(a.id)!;
    assertEquals(after.status, "awaiting_review");
    assert(after.session_id);
    assertEquals(await markedProcesses([a.id]), []);
  });
});

Deno.test("live session: an interrupted turn keeps the last answer as the agent's result", async () => {
  await withLiveEngine(async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "answer one", cwd: h.cwd });
    await waitForStatus(h, a.id, "awaiting_review");
    await s.send(a.id, auto([{ text: "half" }, { hang: true }]));
    await waitFor(
      "the partial text",
      () =>
        h.engine.store.readMessages(a.id, 0, 100).some((m) =>
          m.type === "assistant" && m.raw.includes("half")
        ),
    );
    const after = await s.interrupt(a.id);
    assertEquals([after.status, after.result], ["awaiting_review", "answer one"]);
  });
});

Deno.test("live session: an idle session gives its slot to a queued agent at the cap; a later send resumes it", async () => {
  await withEngine({
    env: { HERO_ORCHESTRATOR_SESSION_IDLE_MS: "600000" },
    tune: (s) => (s.supervisor.maxConcurrent = 1),
  }, async (h) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: auto([{ text: "a done" }]), cwd: h.cwd });
    await waitForStatus(h, a.id, "awaiting_review");
    await waitFor("a's live idle process", () => s.isLive(a.id), 30_000);
    // With the only slot held by a's idle session, b would wait for the 10-minute idle close.
    const b = s.create({ prompt: auto([{ text: "b done" }]), cwd: h.cwd });
    await waitForStatus(h, b.id, "awaiting_review", 30_000);
    assertEquals(h.engine.store.getAgent(a.id)!.status, "awaiting_review");
    assert(!s.isLive(a.id), "a's session was ended for b");
    const sent = await s.send(a.id, "again");
    assertEquals(sent.delivery, "resumed");
  });
});
