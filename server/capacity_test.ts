/**
 * Capacity (reliability target T12) against the daemon under its production permission set: more
 * agents are requested at once than the concurrency limit allows. Never more than the limit run
 * (rows and claude processes, sampled while they start); the rest wait `queued`, each create
 * answered at once; the daemon's descriptors stay within 10 per running agent + 100. CI: 20
 * agents, limit 5; `deno task soak`: the target's 200 and 50, with each create ≤ 100 ms and RSS
 * ≤ 256 MiB asserted.
 */
import assert from "node:assert/strict";
import { fakePrompt, soakFigure, soakMode } from "@hero/core/testing";
import { createClient } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

const AGENTS = soakFigure(20, 200);
const LIMIT = soakFigure(5, 50);
const FULL = soakMode() === "full";

/** Live claude processes (not bwrap, not zombies) of any of `ids`. */
async function claudeProcesses(ids: Set<string>): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-eww", "-o", "stat=,args=", "e"] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => {
    const marker = /HERO_ORCHESTRATOR_AGENT=([^.\s]+)\./.exec(l)?.[1];
    return marker !== undefined && ids.has(marker) && l.includes("fake_claude.ts") &&
      !/^\s*Z/.test(l);
  }).length;
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

Deno.test(`capacity: ${AGENTS} agents requested with a limit of ${LIMIT}; at most ${LIMIT} run, the rest wait queued (T12)`, async () => {
  await using t = await tempEnv({ HERO_ORCHESTRATOR_MAX_CONCURRENT: String(LIMIT) });
  await using daemon = await spawnDaemon(t.env);
  const transport = unixFetch(t.socketPath);
  try {
    const client = createClient({ fetch: transport.fetch });
    const prompt = fakePrompt([{ init: true }, { hang: true }]);
    const answerMs: number[] = [];
    const agents = await Promise.all(Array.from({ length: AGENTS }, async () => {
      const began = performance.now();
      const a = await client.agent.create({ prompt, cwd: t.work });
      answerMs.push(performance.now() - began);
      return a;
    }));
    const ids = new Set(agents.map((a) => a.id));
    let peakProcesses = 0;
    let peakRunning = 0;
    await waitFor(`${LIMIT} running`, async () => {
      peakProcesses = Math.max(peakProcesses, await claudeProcesses(ids));
      const page = await client.agent.list({ limit: 500 });
      const running = page.agents.filter((a) => a.status === "running").length;
      peakRunning = Math.max(peakRunning, running);
      return running === LIMIT && page.agents.filter((a) => a.last_seq >= 1).length === LIMIT;
    }, 120_000);
    // Settled: the limit is reached and holds.
    await new Promise((r) => setTimeout(r, 1_000));
    peakProcesses = Math.max(peakProcesses, await claudeProcesses(ids));
    const page = await client.agent.list({ limit: 500 });
    const count = (status: string) => page.agents.filter((a) => a.status === status).length;
    assert.equal(count("running"), LIMIT);
    assert.equal(count("queued"), AGENTS - LIMIT);
    assert.ok(peakRunning <= LIMIT, `${peakRunning} rows running`);
    assert.ok(peakProcesses <= LIMIT, `${peakProcesses} claude processes`);
    const fds = [...Deno.readDirSync(`/proc/${daemon.pid}/fd`)].length;
    assert.ok(fds <= 10 * LIMIT + 100, `${fds} descriptors for ${LIMIT} running agents`);
    const slowest = Math.max(...answerMs);
    const rss = rssMiB(daemon.pid);
    console.log(
      `T12: ${AGENTS} requested, ${LIMIT} running, slowest create ${
        slowest.toFixed(0)
      } ms, ${fds} fds, RSS ${rss.toFixed(0)} MiB`,
    );
    if (FULL) {
      assert.ok(slowest <= 100, `slowest create ${slowest} ms`);
      assert.ok(rss <= 256, `RSS ${rss} MiB`);
    }
    await Promise.all(agents.map((a) => client.agent.cancel({ id: a.id })));
    await waitFor("no claude left", async () => (await claudeProcesses(ids)) === 0, 60_000);
  } finally {
    transport.close();
  }
  assert.equal((await daemon.stop()).code, 0, daemon.stderr());
});
