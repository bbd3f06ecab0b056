/**
 * No double start (reliability target T6) against the daemon under its production permission set:
 * a session already running, or two continuations of one session 10 ms apart, never put two
 * claude processes on one session. The loser gets a typed error (`invalid_state`), never an
 * internal one. `agent.create` has no idempotency key (see docs/reliability.md): two creates are
 * two agents by contract.
 */
import assert from "node:assert/strict";
import { fakePrompt, soakFigure } from "@hero/core/testing";
import { createClient, RpcError } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

const ROUNDS = soakFigure(5, 100);

/** Claude processes (not bwrap) carrying `id`'s marker. */
async function claudeProcesses(id: string): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-eww", "-o", "stat=,args=", "e"] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l.includes(`HERO_ORCHESTRATOR_AGENT=${id}.`) && l.includes("fake_claude.ts") &&
    !/^\s*Z/.test(l)
  ).length;
}

Deno.test(`double start: a running session refuses a follow-up; two follow-ups 10 ms apart start one process (${ROUNDS} rounds) (T6)`, async () => {
  await using t = await tempEnv();
  await using daemon = await spawnDaemon(t.env);
  const transport = unixFetch(t.socketPath);
  const log = `${t.work}/turns.log`;
  const turn = (tag: string, hang = false) =>
    fakePrompt({
      auto: true,
      steps: [
        { spawnWait: `echo ${tag} >> '${log}'` },
        ...(hang ? [{ text: "holding" }, { hang: true as const }] : [{ text: tag }]),
      ],
    });
  try {
    const client = createClient({ fetch: transport.fetch });
    // A running session: a follow-up is refused, the one process stays the only one.
    const running = await client.agent.create({ prompt: turn("run", true), cwd: t.work });
    await waitFor("running", async () => {
      const a = await client.agent.get({ id: running.id });
      return a.status === "running" && a.last_seq >= 3;
    }, 60_000);
    await assert.rejects(
      client.agent.followUp({ id: running.id, prompt: turn("run-again") }),
      (err: unknown) => err instanceof RpcError && err.reason === "invalid_state",
    );
    assert.equal(await claudeProcesses(running.id), 1);
    await client.agent.cancel({ id: running.id });

    const agent = await client.agent.create({ prompt: turn("first"), cwd: t.work });
    const expected = ["first"];
    for (let round = 0; round < ROUNDS; round++) {
      await waitFor("awaiting_review", async () => {
        const a = await client.agent.get({ id: agent.id });
        assert.notEqual(a.status, "failed", JSON.stringify(a));
        return a.status === "awaiting_review";
      }, 60_000);
      const a = client.agent.followUp({ id: agent.id, prompt: turn(`r${round}a`) });
      await new Promise((r) => setTimeout(r, 10));
      const b = client.agent.followUp({ id: agent.id, prompt: turn(`r${round}b`) });
      const [ra, rb] = await Promise.allSettled([a, b]);
      const won = [ra, rb].filter((r) => r.status === "fulfilled");
      const lost = [ra, rb].flatMap((r) => r.status === "rejected" ? [r.reason] : []);
      assert.equal(won.length, 1, `round ${round}: exactly one continuation is accepted`);
      for (const err of lost) {
        assert.ok(
          err instanceof RpcError && err.reason === "invalid_state",
          `round ${round}: the loser gets invalid_state, not ${err}`,
        );
      }
      expected.push(ra.status === "fulfilled" ? `r${round}a` : `r${round}b`);
      assert.ok(await claudeProcesses(agent.id) <= 1, "one process on the session");
    }
    await waitFor("the last turn", async () => {
      const a = await client.agent.get({ id: agent.id });
      return a.status === "awaiting_review";
    }, 60_000);
    // Every accepted turn ran exactly once, in order, and nothing else ran.
    const ran = (await Deno.readTextFile(log)).trim().split("\n").filter((l) => l !== "run");
    assert.deepEqual(ran, expected);
  } finally {
    transport.close();
  }
  assert.equal((await daemon.stop()).code, 0, daemon.stderr());
});
