import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { fakePrompt } from "../testing/mod.ts";
import { openEngine } from "../engine/mod.ts";
import { openStore } from "../store/mod.ts";
import { resolvePaths } from "../config/mod.ts";
import { ManualClock, markedProcesses, testEnv, waitFor } from "../engine/testing_harness.ts";

const DAEMON = new URL("./testdata/crash_daemon.ts", import.meta.url).pathname;
const CONTINUE = "continue after the reset";

async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
}

function initCount(
  store: {
    readMessages(
      id: string,
      after: number,
      limit: number,
    ): { type: string | null; subtype: string | null }[];
  },
  id: string,
): number {
  return store.readMessages(id, 0, 10_000).filter((m) =>
    m.type === "system" && m.subtype === "init"
  )
    .length;
}

Deno.test("kill -9 of the daemon during a pause: still paused after restart, resumes once after the reset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_pause_crash_" });
  const cwd = `${dir}/work`;
  await Deno.mkdir(cwd);
  const env = testEnv(dir, {
    HERO_ORCHESTRATOR_QUOTA_RESUME_SKEW_MS: "0",
    HERO_ORCHESTRATOR_QUOTA_RESUME_JITTER_MS: "0",
    HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT: CONTINUE,
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", DAEMON],
    env,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = linesOf(child.stdout);
  const stdin = child.stdin.getWriter();
  let id = "";
  let resetsAt = 0;
  try {
    assert(String((await lines.next()).value).startsWith("READY"));
    // A reset a few seconds ahead of the daemon being up: long enough to pause and kill within it.
    resetsAt = Math.ceil(Date.now() / 1000) + 10;
    const prompt = fakePrompt([{ init: true }, { rateLimitRejected: { resetsAt } }]);
    await stdin.write(new TextEncoder().encode(JSON.stringify({ prompt, cwd }) + "\n"));
    for await (const line of lines) {
      const [word, agentId, status] = line.split(" ");
      if (word === "CREATED") id = agentId!;
      if (word === "STATUS" && agentId === id && status === "paused") break;
      assert(status !== "failed", "the agent failed instead of pausing");
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
  assert(Date.now() < resetsAt * 1000, "the test machine is too slow for this reset");
  // What the dead daemon left: the pause and its timer are on the row, not in its memory.
  const left = openStore(resolvePaths(env).dbPath);
  const paused = left.getAgent(id)!;
  left.close();
  assertEquals([paused.status, paused.pause_reason], ["paused", "rate_limit"]);
  assertEquals(paused.resume_at, resetsAt * 1000);

  const engine = await openEngine({ env, log: () => {} });
  try {
    // Still paused after the restart until the reset (a loaded machine may reach it first).
    if (Date.now() < resetsAt * 1000 - 500) {
      assertEquals(engine.store.getAgent(id)!.status, "paused");
      assert(
        engine.supervisor.quota.admission,
        "the rejected window holds new starts after the restart",
      );
    }
    const done = await waitFor("the resumed agent to finish", () => {
      const a = engine.store.getAgent(id)!;
      return a.status === "awaiting_review" ? a : null;
    }, 60_000);
    assert(
      (done.started_at ?? 0) > 0 && Date.now() >= resetsAt * 1000,
      "resumed before the reset",
    );
    assertEquals(done.result, CONTINUE);
    await engine.supervisor.settled(id);
    assertEquals(initCount(engine.store, id), 2);
    assertEquals(await markedProcesses([id]), []);
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a daemon that died while a pause was stopping its run recovers the agent paused, and resumes it once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_pause_recover_" });
  await Deno.mkdir(`${dir}/work`);
  const env = testEnv(dir, {
    HERO_ORCHESTRATOR_QUOTA_RESUME_SKEW_MS: "60000",
    HERO_ORCHESTRATOR_QUOTA_RESUME_JITTER_MS: "0",
    HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT: CONTINUE,
  });
  const paths = resolvePaths(env);
  await Deno.mkdir(paths.stateDir, { recursive: true });
  const clock = new ManualClock();
  const resumeAt = clock.now() + 3 * 3600_000;
  // The rows as a killed daemon leaves them: running, pause stored, session known.
  const store = openStore(paths.dbPath);
  const id = crypto.randomUUID();
  store.insertAgent({
    id,
    prompt: "never resent",
    cwd: `${dir}/work`,
    model: "claude-sonnet-4-6",
    effort: "medium",
    kind: "standard",
  });
  store.transition(id, "running", { session_id: crypto.randomUUID(), started_at: clock.now() });
  store.updateAgent(id, {
    pause_reason: "rate_limit",
    pause_window: "seven_day",
    resume_at: resumeAt,
    paused_at: clock.now(),
  });
  store.close();

  const engine = await openEngine({ env, clock, log: () => {} });
  try {
    const paused = engine.store.getAgent(id)!;
    assertEquals([paused.status, paused.pause_window, paused.resume_at], [
      "paused",
      "seven_day",
      resumeAt,
    ]);
    clock.advance(3 * 3600_000);
    assertEquals(engine.store.getAgent(id)!.status, "paused"); // skew not yet over
    clock.advance(60_001);
    const done = await waitFor("the resumed agent to finish", () => {
      const a = engine.store.getAgent(id)!;
      return a.status === "awaiting_review" ? a : null;
    }, 30_000);
    // The continuation, on the stored session: the interrupted prompt is never sent again.
    assertEquals(done.result, CONTINUE);
    assertEquals(done.session_id, paused.session_id);
    clock.advance(3600_000);
    await engine.supervisor.settled(id);
    assertEquals(initCount(engine.store, id), 1);
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
