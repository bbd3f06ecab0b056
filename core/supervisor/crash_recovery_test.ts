import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { fakePrompt, soakFigure } from "../testing/mod.ts";
import { openEngine } from "../engine/mod.ts";
import { DaemonLockedError } from "./daemon_lock.ts";
import { listProcesses } from "./process_table.ts";
import { countingControl, markedProcesses, testEnv } from "../engine/testing_harness.ts";

/** Reliability target T4: 20 kills of a daemon running 50 agents in `deno task soak`. */
const ROUNDS = soakFigure(3, 20);
const AGENTS = soakFigure(20, 50);

const DAEMON = new URL("./testdata/crash_daemon.ts", import.meta.url).pathname;

interface Daemon {
  child: Deno.ChildProcess;
  acks: Map<string, number[]>;
  created: string[];
  lines: AsyncGenerator<string>;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
}

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

async function startDaemon(env: Record<string, string>): Promise<Daemon> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", DAEMON],
    env,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = linesOf(child.stdout);
  const first = await lines.next();
  assert(String(first.value).startsWith("READY"), `daemon said ${first.value}`);
  return { child, acks: new Map(), created: [], lines, stdin: child.stdin.getWriter() };
}

/** Reads ACK/CREATED lines in the background until the daemon's stdout closes. */
async function pump(d: Daemon): Promise<void> {
  for await (const line of d.lines) {
    const [word, id, seq] = line.split(" ");
    if (word === "ACK") {
      const list = d.acks.get(id!) ?? [];
      list.push(Number(seq));
      d.acks.set(id!, list);
    } else if (word === "CREATED") d.created.push(id!);
  }
}

Deno.test("kill -9 of the daemon mid-stream: 0 acknowledged lines lost, all reconciled, 0 orphans", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_crash_" });
  const cwd = `${dir}/work`;
  await Deno.mkdir(cwd);
  const env = testEnv(dir);
  for (let round = 0; round < ROUNDS; round++) {
    const d = await startDaemon(env);
    const reading = pump(d);
    const prompt = fakePrompt([
      { init: true },
      { spawn: "exec sleep 1000", newSession: true },
      { lines: 200_000, bytes: 400 },
      { hang: true },
    ]);
    const encoder = new TextEncoder();
    for (let i = 0; i < AGENTS; i++) {
      await d.stdin.write(encoder.encode(JSON.stringify({ prompt, cwd }) + "\n"));
    }
    // Let every agent stream for a while, then kill at a random moment.
    const deadline = Date.now() + 20_000;
    while (
      (d.created.length < AGENTS ||
        [...d.acks.values()].filter((a) => a.length > 100).length < AGENTS) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
    d.child.kill("SIGKILL");
    await d.child.status;
    await reading;
    assertEquals(d.created.length, AGENTS);

    // A foreign process with a marker that is not ours, and one reusing nothing: never touched.
    const foreign = new Deno.Command("sleep", {
      args: ["1000"],
      env: { HERO_ORCHESTRATOR_AGENT: `${crypto.randomUUID()}.ffff` },
      stdout: "null",
      stderr: "null",
    }).spawn();

    const started = Date.now();
    const counting = countingControl();
    const engine = await openEngine({
      env,
      tune: (s) => (s.supervisor.cancelGraceMs = 1_000),
      log: () => {},
      control: counting.control,
    });
    try {
      const elapsed = Date.now() - started;
      assert(elapsed < 5_000, `recovery took ${elapsed} ms`);
      // The orphaned trees are stopped together: one ps at a time, not one loop per orphan.
      assertEquals(counting.stats.maxConcurrent, 1, "process-table snapshots ran at once");
      assert(
        counting.stats.snapshots < AGENTS,
        `${counting.stats.snapshots} snapshots for ${AGENTS} orphaned trees`,
      );
      assertEquals(engine.recovery.reconciled, AGENTS);
      assertEquals(engine.store.integrityCheck(), "ok");
      let acked = 0;
      for (const id of d.created) {
        const agent = engine.store.getAgent(id)!;
        assertEquals(agent.status, "failed");
        assertEquals(agent.error_code, "daemon_restart");
        const seqs = d.acks.get(id) ?? [];
        acked += seqs.length;
        const maxAck = Math.max(0, ...seqs);
        // Every acknowledged line is there, and the stored lines are contiguous.
        assert(
          agent.last_seq >= maxAck,
          `agent ${id}: last_seq ${agent.last_seq} < acked ${maxAck}`,
        );
        assertEquals(engine.store.countMessages(id), agent.last_seq);
      }
      assert(acked > AGENTS * 100, `only ${acked} lines acknowledged`);
      assertEquals(await markedProcesses(d.created), []);
      const alive = (await listProcesses()).map((p) => p.pid);
      assert(alive.includes(foreign.pid), "a foreign process was killed");
    } finally {
      foreign.kill("SIGKILL");
      await foreign.status;
      await engine.close();
    }
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a second daemon on the same database is refused with the holder's pid", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_lock_" });
  const env = testEnv(dir);
  const d = await startDaemon(env);
  try {
    let error: unknown;
    try {
      await openEngine({ env, log: () => {} });
    } catch (err) {
      error = err;
    }
    assert(error instanceof DaemonLockedError, String(error));
    assertEquals(error.holderPid, d.child.pid);
    assert(error.message.includes(`pid ${d.child.pid}`));
  } finally {
    await d.stdin.close();
    await pump(d);
    await d.child.status;
  }
  await Deno.remove(dir, { recursive: true });
});
