/**
 * Live sessions with the real claude CLI (pinned) against the mock Anthropic API: the wire of
 * stdin prompts, queued turns, `interrupt` and `--resume` after the session idle period.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type MockAnthropic, sessionRequests, userTexts } from "../testing/mod.ts";
import {
  type Harness,
  markedProcesses,
  waitFor,
  waitForStatus,
  withRealCliEngine,
} from "../engine/testing_harness.ts";

const MODEL = "claude-haiku-4-5";

async function withLiveRealEngine(
  fn: (h: Harness, mock: MockAnthropic) => Promise<void>,
  sessionIdleMs = 120_000,
): Promise<void> {
  await withRealCliEngine({
    env: {
      // The real CLI runs inside the sandbox, as in production.
      HERO_ORCHESTRATOR_SANDBOX: "bwrap",
      HERO_ORCHESTRATOR_SESSION_IDLE_MS: String(sessionIdleMs),
    },
  }, fn);
}

function results(h: Harness, id: string): { result: unknown; subtype: string }[] {
  return h.engine.store.readMessages(id, 0, 10_000)
    .filter((m) => m.type === "result")
    .map((m) => JSON.parse(m.raw));
}

Deno.test("real CLI live: send to the idle process runs the next turn in it; a prompt sent mid-turn is queued", async () => {
  await withLiveRealEngine(async (h, mock) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "say hello", cwd: h.cwd, model: MODEL });
    const first = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    assert(s.isLive(a.id));
    const sent = await s.send(a.id, "SCENARIO_SLOW please");
    assertEquals(sent.delivery, "started");
    await waitFor(
      "the slow request",
      () =>
        sessionRequests(mock, first.session_id!).some((r) =>
          userTexts(r).some((t) => t.includes("SCENARIO_SLOW"))
        ),
      30_000,
    );
    // While the slow turn streams, the next prompt goes in and the CLI queues it.
    assertEquals((await s.send(a.id, "and then this")).delivery, "queued");
    const done = await waitFor("three results and review", () => {
      const agent = h.engine.store.getAgent(a.id)!;
      return agent.status === "awaiting_review" && results(h, a.id).length === 3
        ? agent
        : undefined;
    }, 60_000);
    assertEquals(done.pid, first.pid, "no new process");
    assertEquals(done.session_id, first.session_id);
    assertEquals(results(h, a.id).map((r) => r.subtype), ["success", "success", "success"]);
    assertEquals(
      results(h, a.id)[1]!.result,
      "slow0 slow1 slow2 slow3 slow4 slow5 slow6 slow7 slow8 slow9 ",
    );
    // Prompts appear once each in the transcript.
    const replayed = h.engine.store.readMessages(a.id, 0, 10_000)
      .map((m) => JSON.parse(m.raw))
      .filter((v) => v.type === "user" && v.isReplay === true)
      .map((v) => v.message.content[0].text);
    assertEquals(replayed, ["say hello", "SCENARIO_SLOW please", "and then this"]);
    // The last request carried the whole conversation of this one process.
    const last = sessionRequests(mock, first.session_id!).at(-1)!;
    const texts = userTexts(last).join("\n");
    assert(texts.includes("say hello") && texts.includes("and then this"));
    assert((await markedProcesses([a.id])).includes(first.pid!), "the same process is alive");
  });
});

Deno.test("real CLI live: interrupt ends a streaming turn; the process stays; the next send continues", async () => {
  await withLiveRealEngine(async (h, mock) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "SCENARIO_SLOW go", cwd: h.cwd, model: MODEL });
    const running = await waitForStatus(h, a.id, "running", 60_000);
    // Let a few deltas stream (300 ms apart) before interrupting.
    await waitFor(
      "the slow request",
      () => mock.requests.some((r) => userTexts(r).some((t) => t.includes("SCENARIO_SLOW"))),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const t0 = Date.now();
    const after = await s.interrupt(a.id);
    const took = Date.now() - t0;
    assertEquals(after.status, "awaiting_review");
    // Observed in ~15 ms; the generous bound stands for "at once", not a figure.
    assert(took < 3_000, `interrupt took ${took} ms`);
    assert(s.isLive(a.id));
    assert((await markedProcesses([a.id])).includes(running.pid!), "the same process is alive");
    const lines = h.engine.store.readMessages(a.id, 0, 10_000).map((m) => JSON.parse(m.raw));
    const partial = lines.find((v) => v.type === "assistant" && v.aborted === true);
    assert(partial, "the partial text is stored");
    assert(JSON.stringify(partial.message.content).includes("slow0"));
    assertEquals(results(h, a.id).at(-1)!.subtype, "error_during_execution");
    // The next prompt continues the same session in the same process.
    assertEquals((await s.send(a.id, "carry on")).delivery, "started");
    const next = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    assertEquals(next.pid, running.pid);
    const last = sessionRequests(mock, next.session_id!).at(-1)!;
    const texts = userTexts(last).join("\n");
    assert(texts.includes("[Request interrupted by user]"), texts);
    assert(texts.includes("carry on"));
  });
});

Deno.test("real CLI live: the idle session closes; the next send resumes it in a new process", async () => {
  await withLiveRealEngine(async (h, mock) => {
    const s = h.engine.supervisor;
    const a = s.create({ prompt: "first words", cwd: h.cwd, model: MODEL });
    const first = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    const settled = await s.settled(a.id);
    assertEquals([settled.status, settled.exit_code], ["awaiting_review", 0]);
    assertEquals(await markedProcesses([a.id]), []);
    const sent = await s.send(a.id, "second words");
    assertEquals(sent.delivery, "resumed");
    const second = await waitForStatus(h, a.id, "awaiting_review", 60_000);
    assert(second.pid !== first.pid);
    assertEquals(second.session_id, first.session_id);
    const texts = userTexts(sessionRequests(mock, first.session_id!).at(-1)!).join("\n");
    assert(texts.includes("first words") && texts.includes("second words"), texts);
  }, 1_000);
});
