/**
 * Lock contention (reliability target T22) against the daemon under its production permission
 * set: agents stream lines fast (the line writer commits back to back in its thread, on its own
 * connection) while a client writes through RPC at 100 writes/s on the event loop's connection
 * (`agent.create` of a queued agent, `agent.set_budget` on a streaming one) and a reviewer reads
 * each new agent and then cancels it (`agent.get` → `agent.cancel`: a read-then-write, and the
 * cancel itself re-reads the status inside its transaction). The daemon's own load must never
 * make a write fail: no `busy` (the typed error for a lock held by ANOTHER process past
 * HERO_ORCHESTRATOR_WRITE_WAIT_MS), no internal error, storage never reported busy, every line
 * stored.
 *
 * CI: 4 agents × 250 lines/s, 20 s (p99 printed). `deno task soak`: 10 agents, 2,000 lines/s,
 * 1 h, p99 RPC write ≤ 50 ms.
 */
import assert from "node:assert/strict";
import { soakFigure, soakMode, steadyScenario } from "@hero/core/testing";
import { type Client, createClient, RpcError } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

const FULL = soakMode() === "full";
const AGENTS = soakFigure(4, 10);
const LINES_PER_S = soakFigure(1_000, 2_000);
const SECONDS = soakFigure(20, 3_600);
const WRITES_PER_S = 100;
const LINE_BYTES = 436;
const TICK_MS = 100;
/** The target's bound, asserted in the full soak; CI and the short soak print the figure. */
const P99_MS = 50;
/** Writes out at once; past it the client waits (a wedged daemon shows as a low write count). */
const MAX_IN_FLIGHT = 64;
const REVIEWERS = 4;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** utime + stime of `pid` in seconds. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Per error reason (`busy`, `internal`, …) how many client calls failed with it. */
class Failures {
  counts = new Map<string, number>();
  first = new Map<string, string>();

  add(method: string, err: unknown): void {
    const reason = err instanceof RpcError ? `${err.reason ?? err.code}` : "transport";
    const key = `${method}:${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (!this.first.has(key)) this.first.set(key, String(err));
  }

  count(reason: string): number {
    let n = 0;
    for (const [key, c] of this.counts) if (key.endsWith(`:${reason}`)) n += c;
    return n;
  }

  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  toString(): string {
    return JSON.stringify([...this.counts].map(([k, c]) => `${k} ×${c}: ${this.first.get(k)}`));
  }
}

/** Client-side latencies of the write RPCs, and what failed. */
class Writes {
  ms: number[] = [];
  byMethod = new Map<string, number>();
  msByMethod = new Map<string, number[]>();
  failures = new Failures();

  /** Runs `call` (a write RPC) and times it; a failure is counted, never thrown. */
  async run<T>(method: string, call: () => Promise<T>): Promise<T | undefined> {
    const started = performance.now();
    try {
      const value = await call();
      const ms = performance.now() - started;
      this.ms.push(ms);
      this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
      const mine = this.msByMethod.get(method) ?? [];
      mine.push(ms);
      this.msByMethod.set(method, mine);
      return value;
    } catch (err) {
      this.failures.add(method, err);
      return undefined;
    }
  }
}

Deno.test(
  `lock contention: ${WRITES_PER_S} RPC writes/s and a read-then-write beside ${AGENTS} agents × ${
    LINES_PER_S / AGENTS
  } lines/s for ${SECONDS} s; no busy or internal error, every line stored (T22)`,
  async () => {
    await using t = await tempEnv({
      // The agents that stream hold every slot: the agents the client creates stay queued.
      HERO_ORCHESTRATOR_MAX_CONCURRENT: String(AGENTS),
      // The shipped group-commit window, not the tests' short one.
      HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS: "50",
    });
    const perTick = Math.max(1, Math.round(LINES_PER_S / AGENTS / (1_000 / TICK_MS)));
    // The streams outlast the write load (it starts once they all run), so every write meets them.
    const ticks = Math.round(((SECONDS + soakFigure(15, 120)) * 1_000) / TICK_MS);
    const scenario = `${t.work}/steady.json`;
    await Deno.writeTextFile(
      scenario,
      JSON.stringify(
        steadyScenario({ linesPerTick: perTick, bytes: LINE_BYTES, tickMs: TICK_MS, ticks }),
      ),
    );
    await using daemon = await spawnDaemon(t.env);
    const transport = unixFetch(t.socketPath);
    const writes = new Writes();
    const reads = new Failures();
    const storageFaults: string[] = [];
    let loadOver = false;
    try {
      const client = createClient({ fetch: transport.fetch });
      const streaming: string[] = [];
      for (let i = 0; i < AGENTS; i++) {
        streaming.push(
          (await client.agent.create({ prompt: `FAKE_FILE:${scenario}`, cwd: t.work })).id,
        );
      }
      for (const id of streaming) {
        await waitFor(`${id} streaming`, async () => {
          const a = await client.agent.get({ id });
          assert.ok(a.status === "running" || a.status === "queued", a.status);
          return a.last_seq > 0;
        }, 60_000);
      }
      const created: string[] = [];
      const health = (async () => {
        while (!loadOver) {
          try {
            const h = await client.system.health();
            if (h.checks.storage.state !== "ok") storageFaults.push(h.checks.storage.state);
          } catch (err) {
            reads.add("system.health", err);
          }
          await sleep(500);
        }
      })();
      const reviewers = Array.from(
        { length: REVIEWERS },
        () => review(client, created, writes, reads, () => loadOver),
      );
      const cpuStart = cpuSeconds(daemon.pid);
      const started = performance.now();
      const loadEnds = started + SECONDS * 1_000;
      const inFlight = new Set<Promise<unknown>>();
      let n = 0;
      // Open loop: one write every 10 ms on the clock, whatever the answers take.
      for (let next = started; next < loadEnds; next += 1_000 / WRITES_PER_S) {
        const wait = next - performance.now();
        if (wait > 0) {
          await sleep(wait);
        }
        while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        const i = n++;
        const write = i % 2 === 0
          ? writes.run(
            "agent.create",
            () => client.agent.create({ prompt: `queued ${i}`, cwd: t.work }),
          ).then((a) => {
            if (a) {
              created.push(a.id);
            }
          })
          : writes.run("agent.set_budget", () =>
            client.agent.setBudget({
              id: streaming[i % AGENTS]!,
              max_turns: 1_000 + (i % 100),
            }));
        const tracked = write.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
      await Promise.all(inFlight);
      const loadSeconds = (performance.now() - started) / 1_000;
      const cpu = (cpuSeconds(daemon.pid) - cpuStart) / loadSeconds;
      // The streams ran the whole time: every write met the line writer.
      for (const id of streaming) {
        assert.equal((await client.agent.get({ id })).status, "running", `${id} still streaming`);
      }
      loadOver = true;
      await Promise.all([...reviewers, health]);

      // Every line, contiguous: init, prompt echo, the lines, result.
      const expected = 3 + ticks * perTick;
      let lines = 0;
      for (const id of streaming) {
        const a = await waitFor(`${id} finished`, async () => {
          const a = await client.agent.get({ id });
          return a.status !== "running" && a.status !== "queued" && a;
        }, 300_000);
        assert.equal(a.status, "awaiting_review", JSON.stringify(a));
        assert.equal(a.last_seq, expected, `${id} stored every line`);
        lines += a.last_seq;
      }
      const p99 = percentile(writes.ms, 99);
      console.log(
        `T22: ${writes.ms.length} RPC writes in ${loadSeconds.toFixed(0)} s (${
          (writes.ms.length / loadSeconds).toFixed(0)
        }/s: ${
          [...writes.msByMethod].map(([m, ms]) =>
            `${ms.length} ${m} p99 ${percentile(ms, 99).toFixed(0)} ms`
          ).join(", ")
        }) beside ${lines} lines streamed; write p50 ${
          percentile(writes.ms, 50).toFixed(1)
        } ms, p99 ${p99.toFixed(1)} ms, max ${percentile(writes.ms, 100).toFixed(1)} ms; busy ${
          writes.failures.count("busy")
        }, internal ${writes.failures.count("internal")}, other failures ${
          writes.failures.total() - writes.failures.count("busy") -
          writes.failures.count("internal")
        }; storage faults seen ${storageFaults.length}; daemon CPU ${cpu.toFixed(2)} cores`,
      );
      assert.equal(writes.failures.total(), 0, `failed writes: ${writes.failures}`);
      assert.equal(reads.total(), 0, `failed reads: ${reads}`);
      assert.deepEqual(storageFaults, [], "system.health never reported a storage fault");
      // The load was offered at its rate (writes are not silently shed by a slow daemon).
      const offered = Math.floor(SECONDS * WRITES_PER_S);
      assert.ok(n >= offered * 0.95, `${n} of ${offered} writes offered`);
      assert.ok(
        (writes.byMethod.get("agent.cancel") ?? 0) >=
          (writes.byMethod.get("agent.create") ?? 0) * 0.9,
        "the reviewer kept up with the creates",
      );
      if (FULL) assert.ok(p99 <= P99_MS, `p99 RPC write ${p99.toFixed(1)} ms`);
    } finally {
      loadOver = true;
      transport.close();
    }
    const status = await daemon.stop();
    assert.equal(status.code, 0, daemon.stderr());
    assert.doesNotMatch(daemon.stderr(), /Uncaught/);
  },
);

/**
 * The read-then-write client: takes each created agent, reads it (it must still be queued: every
 * slot is taken), then cancels it (timed as a write). Ends once the load is over and every
 * created agent was cancelled.
 */
async function review(
  client: Client,
  created: string[],
  writes: Writes,
  reads: Failures,
  over: () => boolean,
): Promise<void> {
  for (;;) {
    const id = created.shift();
    if (id === undefined) {
      if (over()) return;
      await sleep(5);
      continue;
    }
    let status: string;
    try {
      status = (await client.agent.get({ id })).status;
    } catch (err) {
      reads.add("agent.get", err);
      continue;
    }
    if (status !== "queued") {
      reads.add("agent.get", new Error(`${id} is ${status}, expected queued`));
      continue;
    }
    await writes.run("agent.cancel", () => client.agent.cancel({ id }));
  }
}
