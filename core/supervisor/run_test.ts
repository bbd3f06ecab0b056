/**
 * `AgentRun` on its own: "close stdin after the result" is the caller's policy, so a run can
 * outlive one turn and take the next one through `send()`.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { newId } from "../models/mod.ts";
import { userMessage } from "../claude/mod.ts";
import { createLauncher } from "./launch.ts";
import { createProcessControl } from "./process_control.ts";
import { turnOf } from "./queue.ts";
import { AgentRun } from "./run.ts";
import {
  type Harness,
  markedProcesses,
  waitFor,
  waitForStatus,
  withEngine,
} from "../engine/testing_harness.ts";

function standaloneRun(h: Harness, closeAfterResult: boolean): AgentRun {
  const { store, writer, settings } = h.engine;
  // Inserted directly: the engine's supervisor never queued it, so this run is the only owner.
  const agent = store.insertAgent({
    id: newId(),
    prompt: "first prompt",
    cwd: h.cwd,
    model: settings.claude.defaultModel,
    effort: settings.claude.defaultEffort,
    kind: "standard",
  });
  return new AgentRun({
    agent,
    turn: turnOf(store, agent),
    store,
    writer,
    control: createProcessControl(),
    settings,
    log: () => {},
    launch: createLauncher({ store, settings, daemonEnv: h.env, proxy: null, agentStateDir: null }),
    closeAfterResult,
    commitFinish: (write) => void write(),
    onEnded: () => {},
  });
}

/** The `result` fields of the agent's stored result lines, in order. */
function results(h: Harness, id: string): string[] {
  return h.engine.store.readMessages(id, 0, 1000)
    .filter((m) => m.type === "result")
    .map((m) => JSON.parse(m.raw).result);
}

Deno.test("AgentRun: without closeAfterResult the process outlives its turn and send() starts the next", async () => {
  await withEngine({}, async (h) => {
    const run = standaloneRun(h, false);
    await rejects(run.send(userMessage("too early")), /not started/);
    run.start();
    await waitForStatus(h, run.agentId, "awaiting_review");
    const proc = run.proc!;
    // The fake exits only once stdin closes: still running, stdin open, after the result.
    const exited = await Promise.race([
      proc.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 500)),
    ]);
    assertEquals([exited, proc.stdinClosed], [false, false]);

    await run.send(userMessage("second prompt"));
    await waitFor("the second turn's result", () => results(h, run.agentId).length === 2);
    assertEquals(results(h, run.agentId), ["first prompt", "second prompt"]);
    // The second prompt went in as one stream-json user line (echoed back by the CLI).
    const echoed = h.engine.store.readMessages(run.agentId, 0, 1000)
      .filter((m) => m.type === "user")
      .map((m) => JSON.parse(m.raw).message.content);
    assertEquals(echoed.at(-1), [{ type: "text", text: "second prompt" }]);

    run.requestStop({ code: "cancelled", message: "test over", status: "cancelled" });
    await run.done;
    // Not running any more when it stopped: its status stays, only the exit is recorded.
    const status = await proc.status;
    const agent = h.engine.store.getAgent(run.agentId)!;
    assertEquals(agent.status, "awaiting_review");
    assertEquals([agent.exit_code, agent.exit_signal], [
      status.signal ? null : status.code,
      status.signal ?? null,
    ]);
    assertEquals(await markedProcesses([run.agentId]), []);
  });
});

Deno.test("AgentRun: with closeAfterResult the CLI exits after its one turn", async () => {
  await withEngine({}, async (h) => {
    const run = standaloneRun(h, true);
    run.start();
    await run.done;
    assert(run.proc!.stdinClosed);
    const agent = h.engine.store.getAgent(run.agentId)!;
    assertEquals([agent.status, agent.exit_code, agent.result], [
      "awaiting_review",
      0,
      "first prompt",
    ]);
    assertEquals(results(h, run.agentId), ["first prompt"]);
  });
});
