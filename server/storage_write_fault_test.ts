/**
 * T23, second run: fail the N-th write of the database. The production daemon runs with a fault
 * shim below SQLite (`core/testing/fault_fs.c`, LD_PRELOAD) while a fake agent streams lines; per
 * round, the N-th write to db.sqlite / its WAL / its journal after the arming fails with EIO or
 * ENOSPC, either once or until the test clears it. The daemon must stay up, RPC writes during the
 * fault answer a typed error (never -32603), the agent finishes with every line once the fault
 * clears, every acknowledged line is still stored, and `integrity_check` is ok.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { resolvePaths } from "@hero/core/config";
import {
  armWriteFault,
  buildFaultShim,
  clearWriteFault,
  fakePrompt,
  faultSetup,
  shimLoadedPid,
  soakFigure,
  writeFaultHit,
} from "@hero/core/testing";
import { type Client, createClient, RpcError } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { assertAckedStored, readAcked } from "./testing/acked_lines.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

/** The N of each round: every N of 1…500 in the full soak, a geometric spread of them in CI. */
function faultNumbers(count: number): number[] {
  if (count >= 500) return Array.from({ length: 500 }, (_, i) => i + 1);
  const ns = new Set<number>();
  for (let i = 0; i < count; i++) ns.add(Math.round(500 ** (i / (count - 1))));
  return [...ns];
}

const NS = faultNumbers(soakFigure(10, 500));
const LINE_BYTES = 400;
/** Enough lines that the fault's writes come while they are committed (≈ 1,000 WAL writes). */
const LINES_AFTER = 5_000;

/** A fake step that waits (at most 2 min) until `file` exists in the agent's cwd. */
function waitForFileStep(file: string) {
  return {
    spawnWait: `i=0; while [ ! -e ${file} ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done`,
  };
}

/** The environment lines of the daemon's live processes for agent `id` (ps e). */
async function agentProcessLines(id: string): Promise<string[]> {
  const out = await new Deno.Command("ps", { args: ["-eww", "-o", "pid=,stat=,args=", "e"] })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.includes(`HERO_ORCHESTRATOR_AGENT=${id}.`) && !/^\s*\d+\s+Z/.test(l));
}

/** The numbered lines of the agent's two `lines` steps are stored once each, in order. */
async function assertEveryLine(client: Client, id: string, steps: number[]): Promise<void> {
  let after = 0;
  let step = 0;
  let next = 0;
  for (;;) {
    const page = await client.agent.messages({ id, after_seq: after, limit: 1000 });
    if (page.messages.length === 0) break;
    for (const m of page.messages) {
      after = m.seq;
      const index = (JSON.parse(m.raw!) as { index?: number }).index;
      if (index === undefined) continue;
      if (next === steps[step]) [step, next] = [step + 1, 0];
      assert.equal(index, next, `line ${next} of step ${step} stored once, in order`);
      next++;
    }
  }
  assert.deepEqual([step, next], [steps.length - 1, steps.at(-1)], "every line was stored");
}

Deno.test(`daemon: the N-th write of the database fails (EIO/ENOSPC, once or until cleared) for ${NS.length} N in 1…500; the daemon stays up, clients get typed errors, no acknowledged line is lost (T23)`, async () => {
  await using t = await tempEnv({ HERO_ORCHESTRATOR_STORAGE_RETRY_MAX_MS: "500" });
  const paths = resolvePaths(t.env);
  await Deno.mkdir(dirname(paths.dbPath), { recursive: true, mode: 0o700 });
  const db = `${await Deno.realPath(dirname(paths.dbPath))}/db.sqlite`;
  const ctl = `${t.dir}/fault`;
  await Deno.mkdir(ctl);
  const fault = faultSetup(await buildFaultShim(t.dir), { db, ctl });
  const daemon = await spawnDaemon({ ...t.env, ...fault.env }, { prelude: fault.prelude });
  const transport = unixFetch(paths.rpcSocket);
  const acked = new Map<string, Map<number, string>>();
  const reader = await readAcked(transport.fetch, acked);
  const client = createClient({ fetch: transport.fetch });
  const hits: string[] = [];
  try {
    assert.equal(await shimLoadedPid(ctl), daemon.pid, "the shim runs in the daemon");
    for (const [i, n] of NS.entries()) {
      const round = i + 1;
      const errno = Math.floor(i / 2) % 2 === 0 ? "EIO" : "ENOSPC";
      // Odd rounds: every write from the N-th on fails until cleared; even rounds: only the N-th.
      const count = i % 2 === 0 ? 0 : 1;
      const what = `round ${round}: N=${n} ${errno} ${count === 0 ? "until cleared" : "once"}`;
      const go = `go-${round}`;
      const agent = await client.agent.create({
        prompt: fakePrompt({
          auto: true,
          steps: [{ lines: 20, bytes: LINE_BYTES }, waitForFileStep(go), {
            lines: LINES_AFTER,
            bytes: LINE_BYTES,
          }],
        }),
        cwd: t.work,
      });
      await waitFor(
        `${what}: the first lines`,
        async () => (await client.agent.get({ id: agent.id })).last_seq >= 20,
        60_000,
      );
      if (round === 1) {
        const lines = await agentProcessLines(agent.id);
        assert.ok(lines.length > 0, "the agent runs");
        assert.ok(lines.every((l) => !l.includes("LD_PRELOAD")), "agents run without the shim");
      }
      await armWriteFault(ctl, round, { n, errno, count });
      await Deno.writeTextFile(`${t.work}/${go}`, "");
      hits.push(
        `${what}: ${await waitFor(
          `${what}: the fault`,
          async () => (await writeFaultHit(ctl, round)) ?? undefined,
          60_000,
        )}`,
      );
      if (count === 0) {
        // Every write fails now: health says which fault, an RPC write answers `busy`.
        const state = await waitFor(`${what}: a storage fault in health`, async () => {
          const health = await client.system.health();
          return health.checks.storage.state === "ok" ? undefined : health.checks.storage.state;
        }, 30_000);
        assert.equal(state, errno === "EIO" ? "storage_io_error" : "storage_full", what);
        const created = await client.agent.create({
          prompt: fakePrompt({ auto: true, steps: [] }),
          cwd: t.work,
        }).then((a) => a, (err) => err);
        assert.ok(
          created instanceof RpcError && created.reason === "busy" && created.code === -32006,
          `${what}: agent.create answered ${
            created instanceof Error ? `${created.name} ${created.message}` : "a new agent"
          }`,
        );
        assert.equal((await client.agent.get({ id: agent.id })).status, "running", what);
      }
      await clearWriteFault(ctl, round);
      const done = await waitFor(`${what}: the agent finishes`, async () => {
        const a = await client.agent.get({ id: agent.id });
        return a.status === "running" || a.status === "queued" ? undefined : a;
      }, 180_000);
      assert.equal(done.status, "awaiting_review", `${what}: ${JSON.stringify(done)}`);
      await assertEveryLine(client, agent.id, [20, LINES_AFTER]);
      await waitFor(
        `${what}: storage ok`,
        async () => (await client.system.health()).checks.storage.state === "ok",
        30_000,
      );
    }
    console.log(hits.join("\n"));
    await waitFor("the events of the last round", () => reader.count() > 0);
    assert.ok(await assertAckedStored(client, acked) >= LINES_AFTER, "lines were acknowledged");
  } finally {
    await reader.stop();
    transport.close();
  }
  assert.deepEqual(reader.conflicts, []);
  const status = await daemon.stop();
  assert.equal(status.code, 0, daemon.stderr());
  assert.doesNotMatch(daemon.stderr(), /Uncaught/);
  // -32603 answers are logged as "method failed"; a storage fault must never be one.
  assert.doesNotMatch(daemon.stderr(), /method failed/);

  const conn = new DatabaseSync(db, { readOnly: true });
  try {
    const integrity = conn.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
    assert.equal(integrity.integrity_check, "ok");
  } finally {
    conn.close();
  }
  // A fresh start (no shim) holds every acknowledged line.
  await using again = await spawnDaemon(t.env);
  const transport2 = unixFetch(paths.rpcSocket);
  try {
    await assertAckedStored(createClient({ fetch: transport2.fetch }), acked);
  } finally {
    transport2.close();
  }
  assert.equal((await again.stop()).code, 0, again.stderr());
});
