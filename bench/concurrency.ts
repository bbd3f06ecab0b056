/**
 * Scenario 5, concurrency: 300 long-lived slow fake agents (5 lines/s each) for 60 s. The
 * daemon's CPU share, RSS (peak and least-squares slope) and RPC latency during the run, then
 * the graceful stop: SIGTERM with every agent still running → exit 0 (T3: within 15 s).
 *
 * Baseline, same run and same daemon: the 300 agents already started but held at a `flock`
 * barrier (silent), RPC latency and RSS measured for a few seconds; then the barrier opens and
 * the measured window starts.
 *
 * One agent in five ignores SIGTERM, so the graceful stop spends the whole cancel grace and its
 * figure is the stop's cost over that grace (T3: ≤ grace + 3 s whatever N is).
 * @module
 */
import {
  Barrier,
  busyCores,
  cpuShare,
  machineCpu,
  type ProcSample,
  sampleProc,
  sleep,
  startDaemon,
  until,
} from "./harness.ts";
import { median, slope, summarize } from "./stats.ts";
import { type BenchContext, figure, type Scenario } from "./types.ts";

interface Config {
  agents: number;
  windowS: number;
  baselineS: number;
  linesPerS: number;
  /** The RSS slope is fitted to the samples from this many seconds into the window. */
  slopeFromS: number;
}

/** The `--soak` window: long enough that V8's heap sizing is over and a leak shows. */
const SOAK_S = 600;

function config(mode: BenchContext["mode"], soak = false): Config {
  const c = mode === "smoke"
    ? { agents: 5, windowS: 3, baselineS: 1, linesPerS: 5 }
    : mode === "quick"
    ? { agents: 100, windowS: 15, baselineS: 3, linesPerS: 5 }
    : { agents: 300, windowS: 60, baselineS: 5, linesPerS: 5 };
  // Soak: the slope of the last half (5 minutes); otherwise after ≤ 10 s of warm-up.
  if (soak && mode !== "smoke") return { ...c, windowS: SOAK_S, slopeFromS: SOAK_S / 2 };
  return { ...c, slopeFromS: Math.min(10, c.windowS / 3) };
}

/** The daemon's cancel grace (its production default): the stop waits this long for stubborn agents. */
const GRACE_MS = 5_000;

/** Times one round of probes: `system.health`, `agent.get`, `agent.list` (running, 50). */
async function probe(
  client: Awaited<ReturnType<typeof startDaemon>>["client"],
  ids: string[],
  out: number[],
): Promise<void> {
  let t = performance.now();
  await client.system.health({});
  out.push(performance.now() - t);
  t = performance.now();
  await client.agent.get({ id: ids[Math.floor(Math.random() * ids.length)]! });
  out.push(performance.now() - t);
  t = performance.now();
  await client.agent.list({ bucket: "running", limit: 50 });
  out.push(performance.now() - t);
}

/** Probes every `everyMs` and samples the daemon every second until `ms` passed. */
async function observe(
  d: Awaited<ReturnType<typeof startDaemon>>,
  ids: string[],
  ms: number,
  everyMs: number,
): Promise<{ rpc: number[]; samples: ProcSample[] }> {
  const rpc: number[] = [];
  const samples: ProcSample[] = [sampleProc(d.pid)!];
  const end = performance.now() + ms;
  let nextSample = performance.now() + 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await probe(d.client, ids, rpc);
    if (performance.now() >= nextSample) {
      const s = sampleProc(d.pid);
      if (s) samples.push(s);
      nextSample += 1000;
    }
    await sleep(Math.max(0, everyMs - (performance.now() - t0)));
  }
  const last = sampleProc(d.pid);
  if (last) samples.push(last);
  return { rpc, samples };
}

export const scenario: Scenario = {
  name: "concurrency",
  title: "Concurrency: many long-lived slow agents; daemon CPU, RSS and RPC latency",
  async run(ctx) {
    const c = config(ctx.mode, ctx.soak);
    const barrier = await Barrier.hold(`${ctx.tmp}/barrier.lock`);
    const interval = 1000 / c.linesPerS;
    // Enough lines to outlast spawning, the baseline and the window; the daemon stops the rest.
    const lines = Math.ceil(c.linesPerS * (c.windowS + 60));
    const steps: unknown[] = [barrier.step];
    for (let i = 0; i < lines; i++) steps.push({ lines: 1, bytes: 700 }, { sleep: interval });
    const scenarioPath = `${ctx.tmp}/slow.json`;
    await Deno.writeTextFile(scenarioPath, JSON.stringify({ auto: true, steps }));
    const stubbornPath = `${ctx.tmp}/slow_ignoring_sigterm.json`;
    await Deno.writeTextFile(
      stubbornPath,
      JSON.stringify({ auto: true, steps: [{ ignoreSigterm: true }, ...steps] }),
    );
    const dir = `${ctx.tmp}/daemon`;
    await Deno.mkdir(dir, { recursive: true });
    const d = await startDaemon(dir, {
      HERO_ORCHESTRATOR_MAX_CONCURRENT: String(c.agents),
      HERO_ORCHESTRATOR_CANCEL_GRACE_MS: String(GRACE_MS),
    });
    try {
      const idle = sampleProc(d.pid)!;
      ctx.log(`concurrency: starting ${c.agents} agents`);
      const t0 = performance.now();
      const ids: string[] = [];
      for (let i = 0; i < c.agents; i += 25) {
        const batch = await Promise.all(
          Array.from(
            { length: Math.min(25, c.agents - i) },
            (_, j) =>
              d.client.agent.create({
                prompt: `FAKE_FILE:${(i + j) % 5 === 4 ? stubbornPath : scenarioPath}`,
                cwd: d.work,
              }),
          ),
        );
        ids.push(...batch.map((a) => a.id));
      }
      await until("every slow agent running", async () => {
        let page = await d.client.agent.list({ bucket: "running", limit: 500 });
        let running = page.agents.filter((a) => a.status === "running" && a.last_seq >= 1).length;
        while (page.next_cursor) {
          page = await d.client.agent.list({
            bucket: "running",
            limit: 500,
            cursor: page.next_cursor,
          });
          running += page.agents.filter((a) => a.status === "running" && a.last_seq >= 1).length;
        }
        return running === c.agents;
      }, { timeoutMs: 180_000, intervalMs: 250 });
      const spawnS = (performance.now() - t0) / 1000;
      ctx.log(`concurrency: ${c.agents} agents running after ${spawnS.toFixed(1)} s; baseline`);
      const base = await observe(d, ids, c.baselineS * 1000, 100);
      ctx.log(`concurrency: ${c.windowS} s window at ${c.agents * c.linesPerS} lines/s`);
      await barrier.release();
      const m0 = machineCpu();
      const win = await observe(d, ids, c.windowS * 1000, 100);
      const machine = busyCores(m0, machineCpu());
      const first = win.samples[0]!;
      const lastSample = win.samples[win.samples.length - 1]!;
      const rssMb = win.samples.map((s) => s.rssKb / 1024);
      const steady = win.samples.filter((s) => s.at - first.at >= c.slopeFromS * 1000);
      const slopeMbPerMin = steady.length >= 3
        ? slope(steady.map((s) => (s.at - first.at) / 60_000), steady.map((s) => s.rssKb / 1024))
        : NaN;
      const peakMb = Math.max(...rssMb, lastSample.hwmKb / 1024);
      const baseRssMb = median(base.samples.map((s) => s.rssKb / 1024));
      const cpu = cpuShare(first, lastSample);
      const rpc = summarize(win.rpc);
      const rpcBase = summarize(base.rpc);
      ctx.log("concurrency: stopping the daemon");
      const s0 = performance.now();
      let stopNote = "";
      try {
        await d.stop();
      } catch (err) {
        stopNote = ` (${err instanceof Error ? err.message.split(":")[0] : String(err)})`;
      }
      const stopS = (performance.now() - s0) / 1000;
      const stored = await storedLines(d.dbPath);
      const expected = c.agents * c.linesPerS * c.windowS;
      return {
        figures: [
          figure({
            id: "concurrency.rss_peak",
            label: `${c.agents} agents × ${c.linesPerS} lines/s, ${c.windowS} s: daemon RSS peak`,
            unit: "MB",
            value: peakMb,
            baseline: { label: `${c.agents} agents started, silent`, value: baseRssMb },
            target: "≤ 150 MB (children excluded)",
            check: (v) => v <= 150,
            detail: { rss_mb: rssMb, idle_before_agents_mb: idle.rssKb / 1024 },
          }),
          figure({
            id: "concurrency.rss_per_agent",
            label:
              `daemon RSS per running agent (${c.agents} started and silent, minus the idle daemon)`,
            unit: "KiB",
            value: ((baseRssMb - idle.rssKb / 1024) * 1024) / c.agents,
            baseline: null,
          }),
          figure({
            id: "concurrency.rss_slope",
            label: c.windowS >= SOAK_S
              ? `daemon RSS slope over the last ${(c.windowS - c.slopeFromS) / 60} min of ${
                c.windowS / 60
              } (soak)`
              : `daemon RSS slope after ${c.slopeFromS} s of warm-up`,
            unit: "MB/min",
            value: slopeMbPerMin,
            baseline: null,
            target: "no upward slope (≤ 1 MB/min)",
            check: (v) => v <= 1,
          }),
          figure({
            id: "concurrency.cpu",
            label: "daemon CPU during the window",
            unit: "% of a core",
            value: cpu * 100,
            baseline: null,
          }),
          figure({
            id: "concurrency.rpc_p99",
            label: `RPC during the run (health/get/list), p99 (p50 ${rpc.p50.toFixed(2)} ms)`,
            unit: "ms",
            value: rpc.p99,
            baseline: { label: "same probes, agents silent, p99", value: rpcBase.p99 },
            detail: { rpc, rpc_baseline: rpcBase },
          }),
          figure({
            id: "concurrency.stop",
            label:
              `graceful stop (SIGTERM → exit), ${c.agents} agents running, 1 in 5 ignoring SIGTERM${stopNote}`,
            unit: "s",
            value: stopS,
            baseline: { label: "the cancel grace", value: GRACE_MS / 1000 },
            ratioKind: "diff",
            target: "≤ grace + 3 s and exit 0 (T3, < TimeoutStopSec)",
            check: (_v, diff) => diff !== null && diff <= 3 && stopNote === "",
            detail: { exit_ok: stopNote === "", stop_s: stopS, grace_s: GRACE_MS / 1000 },
          }),
        ],
        notes: [
          `${c.agents} fake agents running ${spawnS.toFixed(1)} s after the first create; ${
            stored.toLocaleString("en-US")
          } lines stored (~${expected.toLocaleString("en-US")} expected in the window); machine ${
            machine.toFixed(2)
          } of ${navigator.hardwareConcurrency} cores busy; graceful stop with ${c.agents} agents took ${
            stopS.toFixed(1)
          } s${stopNote}`,
        ],
        data: {
          config: c,
          spawn_s: spawnS,
          stop_s: stopS,
          rss_samples_mb: rssMb,
          cpu_share: cpu,
          machine_cores: machine,
          rpc,
          rpc_baseline: rpcBase,
        },
      };
    } finally {
      await barrier.release();
      await d.stop().catch(() => {});
    }
  },
};

async function storedLines(dbPath: string): Promise<number> {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
  } finally {
    db.close();
  }
}
