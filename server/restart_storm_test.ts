/**
 * Restart storm (reliability targets T8 and T4) against the daemon under its production permission
 * set: the daemon is SIGKILLed again and again while agents that exit 1 within 100 ms of their
 * spawn are being created and another agent streams lines. After every restart the database
 * passes `integrity_check`; every line an SSE client saw (an acknowledgement: events go out after
 * COMMIT) is stored; every agent row is terminal at the first answer, once, and stays as it was;
 * reconciliation never starts an agent again (each agent spawned at most once, counted by the
 * agents themselves). CI runs 5 kills; `deno task soak` the target's 20.
 */
import assert from "node:assert/strict";
import { resolvePaths } from "@hero/core/config";
import { inspectDatabase } from "@hero/core/store";
import { fakePrompt, soakFigure } from "@hero/core/testing";
import { createClient, parseSse } from "@hero/sdk";
import { allAgents, spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

const KILLS = soakFigure(5, 20);
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/**
 * Records the highest message seq per agent that `GET /events` delivers from `from` on, until the
 * stream ends (the daemon is killed) or `signal` aborts. Returns the last event id seen.
 */
async function recordAcks(
  fetchFn: typeof fetch,
  from: number,
  acked: Map<string, number>,
  signal: AbortSignal,
): Promise<number> {
  let last = from;
  try {
    const response = await fetchFn("http://localhost/events", {
      headers: { accept: "text/event-stream", "last-event-id": String(from) },
    });
    for await (const m of parseSse(response.body!.pipeThrough(new TransformStream(), { signal }))) {
      last = Number(m.id ?? last);
      if (m.event !== "message") continue;
      const { agent_id, seq } = JSON.parse(m.data) as { agent_id: string; seq: number };
      acked.set(agent_id, Math.max(acked.get(agent_id) ?? 0, seq));
    }
  } catch {
    // the daemon was killed, or the test stopped reading
  }
  return last;
}

Deno.test(`restart storm: ${KILLS} kill -9 of the daemon while agents crash at spawn and stream; integrity ok, every seen line stored, each row terminal once, nothing respawned (T4, T8)`, async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  const spawnLog = `${t.work}/spawns.log`;
  // Each agent appends its id to the log once per spawn, then exits 1 (well within 100 ms).
  const crashing = (tag: string) =>
    fakePrompt([{ spawnWait: `echo ${tag} >> '${spawnLog}'` }, { exit: 1 }]);
  const streaming = (tag: string) =>
    fakePrompt([
      { init: true },
      { spawnWait: `echo ${tag} >> '${spawnLog}'` },
      { lines: 200_000, bytes: 400 },
      { hang: true },
    ]);
  /** Highest seq per agent any SSE client saw: acknowledged, so it must survive every kill. */
  const acked = new Map<string, number>();
  let lastEventId = 0;
  /** The first terminal state seen of every agent: it must never change afterwards. */
  const settled = new Map<string, string>();
  let created = 0;
  const stopReading = new AbortController();
  for (let kill = 0; kill <= KILLS; kill++) {
    const daemon = await spawnDaemon(t.env);
    const transport = unixFetch(t.socketPath);
    try {
      const client = createClient({ fetch: transport.fetch });
      // Reconciliation ran before the socket accepted: nothing of an earlier life is live.
      const agents = await allAgents(client);
      assert.equal(agents.length, created);
      for (const a of agents) {
        assert.ok(TERMINAL.has(a.status), `${a.id} is ${a.status} after restart ${kill}`);
        const state = JSON.stringify([a.status, a.error_code, a.finished_at]);
        const first = settled.get(a.id);
        if (first) assert.equal(state, first, `${a.id} changed after it was terminal`);
        else settled.set(a.id, state);
      }
      const report = inspectDatabase(paths.dbPath);
      assert.deepEqual(report.integrity, ["ok"], `integrity after restart ${kill}`);
      for (const [id, seq] of acked) {
        const a = await client.agent.get({ id });
        assert.ok(a.last_seq >= seq, `${id}: line ${seq} was seen, last_seq is ${a.last_seq}`);
        const page = await client.agent.messages({ id, after_seq: seq - 1, limit: 1 });
        assert.equal(page.messages[0]?.seq, seq, `${id}: seen line ${seq} is stored`);
      }
      if (kill === KILLS) {
        assert.equal((await daemon.stop()).code, 0, daemon.stderr());
        break;
      }
      // An SSE client from the last id seen; three crashing agents and one streaming one, then
      // the kill at a random moment while it streams.
      const reading = recordAcks(transport.fetch, lastEventId, acked, stopReading.signal)
        .then((id) => (lastEventId = id));
      for (let i = 0; i < 3; i++) {
        await client.agent.create({ prompt: crashing(`c${kill}.${i}`), cwd: t.work });
      }
      const live = await client.agent.create({ prompt: streaming(`h${kill}`), cwd: t.work });
      created += 4;
      await waitFor("the agent streaming", () => (acked.get(live.id) ?? 0) >= 1_000, 60_000);
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      const status = await daemon.stop("SIGKILL");
      assert.equal(status.signal, "SIGKILL");
      await reading;
    } catch (err) {
      stopReading.abort();
      await daemon.stop("SIGKILL");
      throw err;
    } finally {
      transport.close();
    }
  }
  // No agent ran twice: each tag is in the log at most once.
  const tags = (await Deno.readTextFile(spawnLog)).trim().split("\n");
  assert.equal(new Set(tags).size, tags.length, `respawned: ${tags.join(" ")}`);
  assert.ok(tags.length <= created);
  // Every running agent of every life was spawned (and then reconciled, not restarted).
  for (let kill = 0; kill < KILLS; kill++) assert.ok(tags.includes(`h${kill}`), `h${kill}`);
});
