/**
 * Tree kill and zombie reaping (reliability targets T1 and T7) against the daemon under its
 * production permission set (T40: the tree dies under these flags too): start/stop cycles of
 * agents that each spawn 3 short-lived grandchildren and a long-lived tree (a subshell's `sleep`,
 * a process in its own session, a "dev server" with its stdio closed). `agent.cancel` answers
 * `cancelled` only when nothing of the agent is left; no zombie owned by the daemon stays; its
 * open descriptors return to the baseline. CI runs 20 cycles; `deno task soak` 1,000 (T7's
 * figure, above T1's 100).
 */
import assert from "node:assert/strict";
import { fakePrompt, soakFigure } from "@hero/core/testing";
import { createClient } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

const CYCLES = soakFigure(20, 1_000);
/** Agents started and stopped together in one round. */
const PER_ROUND = 5;

/** Children of `pid` in state Z (reaped by nobody yet). */
async function zombiesOf(pid: number): Promise<string[]> {
  const out = await new Deno.Command("ps", { args: ["-e", "-o", "pid=,ppid=,stat=,comm="] })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((line) => {
    const [, ppid, stat] = line.trim().split(/\s+/);
    return Number(ppid) === pid && stat?.startsWith("Z");
  });
}

/** Live (non-zombie) processes carrying `id`'s marker: an agent's whole tree. */
async function markedProcesses(id: string): Promise<string[]> {
  const out = await new Deno.Command("ps", { args: ["-eww", "-o", "pid=,stat=,args=", "e"] })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.includes(`HERO_ORCHESTRATOR_AGENT=${id}.`) && !/^\s*\d+\s+Z/.test(l))
    .map((l) => l.slice(0, 120));
}

function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

Deno.test(`reaping: ${CYCLES} start/stop cycles leave 0 descendants, 0 zombies and no leaked descriptors (T1, T7)`, async () => {
  await using t = await tempEnv({ HERO_ORCHESTRATOR_MAX_CONCURRENT: String(PER_ROUND) });
  await using daemon = await spawnDaemon(t.env);
  const transport = unixFetch(t.socketPath);
  try {
    const client = createClient({ fetch: transport.fetch });
    const prompt = fakePrompt([
      { init: true },
      { spawn: "sleep 0.05" },
      { spawn: "sleep 0.1", newSession: true },
      { spawn: "sh -c 'sleep 0.05 & wait'" },
      { spawn: "sh -c 'sh -c \"sleep 1000\"'" },
      { spawn: "sleep 1000", newSession: true },
      { spawn: "exec sleep 1000 >/dev/null 2>&1 </dev/null", newSession: true },
      { text: "grandchildren started" },
      { hang: true },
    ]);
    const round = async (): Promise<void> => {
      const agents = await Promise.all(
        Array.from({ length: PER_ROUND }, () => client.agent.create({ prompt, cwd: t.work })),
      );
      await Promise.all(agents.map((a) =>
        waitFor(`${a.id} running its tree`, async () => {
          const got = await client.agent.get({ id: a.id });
          assert.notEqual(got.status, "failed", JSON.stringify(got));
          return got.status === "running" && got.last_seq >= 3 &&
            (await markedProcesses(a.id)).filter((l) => l.includes("sleep 1000")).length >= 3;
        }, 60_000)
      ));
      const stopped = await Promise.all(agents.map((a) => client.agent.cancel({ id: a.id })));
      for (const a of stopped) {
        assert.equal(a.status, "cancelled");
        assert.deepEqual(await markedProcesses(a.id), [], `${a.id}: descendants left`);
      }
      await Promise.all(agents.map((a) => client.agent.delete({ id: a.id })));
    };
    // One round first: the descriptors the daemon keeps for good (WAL, caches) exist afterwards.
    await round();
    const baseline = openFds(daemon.pid);
    for (let done = PER_ROUND; done < CYCLES; done += PER_ROUND) {
      await round();
      // The daemon waits for every child it spawns (claude, ps, kill): none stays a zombie.
      await waitFor(
        `no zombie of the daemon after ${done + PER_ROUND} cycles`,
        async () => (await zombiesOf(daemon.pid)).length === 0,
        10_000,
      ).catch(async (err) => {
        throw new Error(`${err.message}: ${(await zombiesOf(daemon.pid)).join("; ")}`);
      });
    }
    await waitFor(
      "descriptors back to the baseline",
      () => Math.abs(openFds(daemon.pid) - baseline) <= 5,
      10_000,
    ).catch(() => {
      throw new Error(`${openFds(daemon.pid)} descriptors open, baseline ${baseline}`);
    });
  } finally {
    transport.close();
  }
  assert.equal((await daemon.stop()).code, 0, daemon.stderr());
});
