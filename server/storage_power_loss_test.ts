/**
 * T19: power loss, emulated below SQLite. The production daemon runs with a shim
 * (`core/testing/fault_fs.c`, LD_PRELOAD) that journals, before every write to db.sqlite and its
 * WAL, the bytes it replaces; an fsync of a file covers its journaled writes. Each round: agents
 * stream lines fast, the daemon is killed (SIGKILL) at a random moment (0–1.5 s into the stream,
 * then the next instant unsynced writes are on record), and every write no fsync
 * covered is undone (in odd rounds all of them, in even rounds all but a random oldest prefix per
 * file), which is what a device that lost its unflushed writes leaves. With synchronous=FULL each
 * COMMIT that returned was fsynced, so after the restart every line an SSE client saw (events go
 * out only after COMMIT) must be stored, and `integrity_check` must be ok.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { resolvePaths } from "@hero/core/config";
import { inspectDatabase } from "@hero/core/store";
import {
  applyPowerLoss,
  buildFaultShim,
  fakePrompt,
  faultSetup,
  soakFigure,
} from "@hero/core/testing";
import { createClient } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import {
  type AckedLines,
  type AckReader,
  assertAckedStored,
  readAcked,
} from "./testing/acked_lines.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

const ROUNDS = soakFigure(3, 20);
const AGENTS = 2;

/** Whether a process of one of these agents is still alive (by the marker in its environment). */
async function agentsAlive(ids: string[]): Promise<boolean> {
  const out = await new Deno.Command("ps", { args: ["-eww", "-o", "stat=,args=", "e"] }).output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .some((l) =>
      !l.trimStart().startsWith("Z") &&
      ids.some((id) => l.includes(`HERO_ORCHESTRATOR_AGENT=${id}.`))
    );
}

Deno.test(`daemon: ${ROUNDS} power losses (SIGKILL, then unsynced writes undone) while agents stream; integrity_check ok, no acknowledged line lost (T19)`, async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  await Deno.mkdir(dirname(paths.dbPath), { recursive: true, mode: 0o700 });
  const db = `${await Deno.realPath(dirname(paths.dbPath))}/db.sqlite`;
  const shim = await buildFaultShim(t.dir);
  const acked: AckedLines = new Map();
  const reports: string[] = [];
  const conflicts: string[] = [];
  // Each round's reader resumes after the last event the previous one saw (acknowledged, so it
  // survived): replaying every earlier round would grow with the rounds.
  let lastId = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const undo = `${t.dir}/undo-${round}`;
    const fault = faultSetup(shim, { db, undo });
    const daemon = await spawnDaemon({ ...t.env, ...fault.env }, { prelude: fault.prelude });
    const transport = unixFetch(paths.rpcSocket);
    let reader: AckReader | undefined;
    let ids: string[] = [];
    try {
      const client = createClient({ fetch: transport.fetch });
      // What earlier rounds acknowledged survived their power loss.
      if (round > 1) await assertAckedStored(client, acked);
      assert.deepEqual(inspectDatabase(db).integrity, ["ok"], `round ${round}: integrity_check`);
      reader = await readAcked(transport.fetch, acked, lastId);
      const agents = await Promise.all(
        Array.from({ length: AGENTS }, () =>
          client.agent.create({
            prompt: fakePrompt({ auto: true, steps: [{ lines: 50_000, bytes: 400 }] }),
            cwd: t.work,
          })),
      );
      ids = agents.map((a) => a.id);
      await waitFor(
        `round ${round}: lines flowing`,
        () => agents.every((a) => (acked.get(a.id)?.size ?? 0) > 0),
        60_000,
      ).catch(async (err) => {
        const states = await Promise.all(agents.map((a) => client.agent.get({ id: a.id })));
        throw new Error(
          `${err}: agents ${
            JSON.stringify(states.map((a) => [a.status, a.last_seq, a.error_code]))
          }, ${reader?.count()} events seen; daemon: ${daemon.stderr().slice(-2000)}`,
        );
      });
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1_500)));
      // Then, within 2 s, a moment when writes no fsync covers yet are on record: the power loss
      // has something to take (a kill between two commits would lose nothing).
      await waitFor("unsynced writes", async () => (await Deno.stat(undo)).size > 0, 2_000)
        .catch(() => {});
    } finally {
      await daemon.stop("SIGKILL");
      await reader?.stop();
      conflicts.push(...reader?.conflicts ?? []);
      lastId = reader?.lastId() ?? lastId;
      transport.close();
    }
    await waitFor(
      `round ${round}: the agents died with the daemon`,
      async () => !(await agentsAlive(ids)),
      30_000,
    );
    assert.ok((await Deno.stat(undo)).isFile, "the shim ran in the daemon");
    const report = await applyPowerLoss(
      db,
      undo,
      round % 2 === 0 ? (_file, unsynced) => Math.floor(Math.random() * (unsynced + 1)) : undefined,
    );
    reports.push(`round ${round}: ${JSON.stringify(report)}`);
  }
  console.log(reports.join("\n"));
  assert.deepEqual(conflicts, [], "a replayed line differs from what was acknowledged");
  await using daemon = await spawnDaemon(t.env);
  const transport = unixFetch(paths.rpcSocket);
  try {
    const checked = await assertAckedStored(createClient({ fetch: transport.fetch }), acked);
    assert.ok(checked > 0, "lines were acknowledged");
    console.log(`${checked} acknowledged lines checked after ${ROUNDS} power losses`);
    assert.deepEqual(inspectDatabase(db).integrity, ["ok"]);
  } finally {
    transport.close();
  }
  assert.equal((await daemon.stop()).code, 0, daemon.stderr());
});
