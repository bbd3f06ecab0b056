/**
 * Liveness reconciliation (reliability target T10) against the daemon under its production
 * permission set: an agent's claude is SIGKILLed from outside while another process holds the
 * database's write lock for 3 s. Once the lock is free the row turns `failed` with the exit
 * recorded, and a row never stays `running` without a live process (sampled every 250 ms).
 * CI and the short soak allow 10 s after the release (a loaded 2-core machine); the full soak
 * asserts the target's 2 s.
 */
import assert from "node:assert/strict";
import { resolvePaths } from "@hero/core/config";
import { fakePrompt, soakMode } from "@hero/core/testing";
import { createClient } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

const HOLD_MS = 3_000;
const AFTER_RELEASE_MS = soakMode() === "full" ? 2_000 : 10_000;
const HOLD_LOCK = new URL("../core/store/testdata/hold_lock.ts", import.meta.url).pathname;

/** Live processes carrying `id`'s marker: [pid, args] (zombies left out). */
async function agentProcesses(id: string): Promise<Array<[number, string]>> {
  const out = await new Deno.Command("ps", { args: ["-eww", "-o", "pid=,stat=,args=", "e"] })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.includes(`HERO_ORCHESTRATOR_AGENT=${id}.`) && !/^\s*\d+\s+Z/.test(l))
    .map((l) => {
      const [pid, , ...args] = l.trim().split(/\s+/);
      return [Number(pid), args.join(" ")];
    });
}

/** Reads `child`'s stdout until `word` appears. */
async function until(reader: ReadableStreamDefaultReader<string>, word: string): Promise<void> {
  let out = "";
  while (!out.includes(word)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`lock holder ended before ${word}: ${out}`);
    out += value;
  }
}

Deno.test("liveness: a claude SIGKILLed while the writer is blocked is failed within the bound after the lock frees (T10)", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  await using daemon = await spawnDaemon(t.env);
  const transport = unixFetch(t.socketPath);
  let holder: Deno.ChildProcess | undefined;
  try {
    const client = createClient({ fetch: transport.fetch });
    const agent = await client.agent.create({
      prompt: fakePrompt([{ init: true }, { text: "working" }, { hang: true }]),
      cwd: t.work,
    });
    await waitFor("running", async () => {
      const a = await client.agent.get({ id: agent.id });
      return a.status === "running" && a.last_seq >= 2;
    }, 60_000);
    // The fake claude itself (inside the sandbox, the command bwrap runs), not bwrap.
    const [claudePid] = (await agentProcesses(agent.id)).find(([, args]) =>
      args.includes("fake_claude.ts")
    ) ?? [];
    assert.ok(claudePid, JSON.stringify(await agentProcesses(agent.id)));

    holder = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", HOLD_LOCK, paths.dbPath, String(HOLD_MS)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await until(reader, "LOCKED");
    Deno.kill(claudePid, "SIGKILL");
    await until(reader, "RELEASED");
    const released = Date.now();
    reader.releaseLock();

    // From the release on, sample every 250 ms: running only while a process of it lives.
    let runningWithoutProcess = 0;
    const failed = await waitFor("failed", async () => {
      const a = await client.agent.get({ id: agent.id });
      if (a.status === "running" && (await agentProcesses(agent.id)).length === 0) {
        runningWithoutProcess = Math.max(runningWithoutProcess, Date.now() - released);
      }
      if (a.status !== "running") return a;
      await new Promise((r) => setTimeout(r, 250));
    }, AFTER_RELEASE_MS + 20_000);
    const took = Date.now() - released;
    console.log(
      `T10: failed ${took} ms after the release (${failed.exit_signal ?? failed.exit_code})`,
    );
    assert.equal(failed.status, "failed", JSON.stringify(failed));
    assert.ok(
      failed.exit_signal === "SIGKILL" || failed.exit_code === 137,
      `the exit is recorded: ${JSON.stringify(failed)}`,
    );
    assert.ok(took <= AFTER_RELEASE_MS, `failed ${took} ms after the lock was released`);
    assert.ok(runningWithoutProcess <= AFTER_RELEASE_MS, `running without a process`);
    assert.equal((await client.system.health()).checks.storage.state, "ok");
    assert.deepEqual(await agentProcesses(agent.id), []);
  } finally {
    transport.close();
    await holder?.stdout.cancel().catch(() => {});
    await holder?.status;
  }
  assert.equal((await daemon.stop()).code, 0, daemon.stderr());
  assert.doesNotMatch(daemon.stderr(), /Uncaught/);
});
