import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { fakePrompt } from "../testing/mod.ts";
import { markedProcesses, waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

const GRACE_MS = 1_000;
const CANCEL_GRACE_MS = 1_000;

// Unsandboxed: inside bwrap the sandbox's own processes keep a copy of the agent's stdout, so
// claude closing its end is not an end of file for the daemon (the idle timeout catches that case).
Deno.test("a claude that closes stdout but keeps running ends failed/stdout_closed within the grace and leaves no process", async () => {
  await withEngine({
    env: { HERO_ORCHESTRATOR_SANDBOX: "off" },
    tune(s) {
      s.supervisor.stdoutEofGraceMs = GRACE_MS;
      s.supervisor.cancelGraceMs = CANCEL_GRACE_MS;
    },
  }, async (h) => {
    // Like `exec 1>&-; sleep 600`: stdout closed, the process (and its turn) lives on.
    const a = h.engine.supervisor.create({
      prompt: fakePrompt([{ init: true }, { text: "before the close" }, { closeStdout: true }, {
        sleep: 600_000,
      }]),
      cwd: h.cwd,
    });
    await waitForStatus(h, a.id, "running");
    const lines = await waitFor("the lines before the close stored", () => {
      const stored = h.engine.store.readMessages(a.id, 0, 10);
      return stored.at(-1)?.type === "assistant" ? stored : undefined;
    });
    const eofBy = Date.now();
    const failed = await waitForStatus(h, a.id, "failed", 30_000);
    assertEquals(failed.error_code, "stdout_closed");
    assert(/closed its stdout/.test(failed.error_message ?? ""), failed.error_message ?? "");
    // The grace, then the stop path (SIGTERM is enough for the fake), plus slack for a loaded host.
    const took = failed.finished_at! - eofBy;
    assert(took < GRACE_MS + CANCEL_GRACE_MS + 10_000, `ended ${took} ms after stdout closed`);
    assertEquals(lines.map((m) => m.type), ["system", "user", "assistant"]);
    assertEquals(h.engine.store.getAgent(a.id)!.last_seq, 3, "nothing after the close");
    const settled = await h.engine.supervisor.settled(a.id);
    assertEquals(settled.status, "failed");
    assertEquals(await markedProcesses([a.id]), []);
  });
});

Deno.test("a claude that closes stdout and exits within the grace is judged by its exit, not stdout_closed", async () => {
  await withEngine({ tune: (s) => (s.supervisor.stdoutEofGraceMs = 5_000) }, async (h) => {
    const a = h.engine.supervisor.create({
      prompt: fakePrompt({ steps: [{ init: true }, { closeStdout: true }, { exit: 3 }] }),
      cwd: h.cwd,
    });
    const failed = await waitForStatus(h, a.id, "failed");
    assertEquals([failed.error_code, failed.exit_code], ["exit_nonzero", 3]);
  });
});
