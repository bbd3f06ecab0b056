/**
 * Scenario 9, stall: one SSE client opens `/events` over a raw Unix connection and never reads
 * while an agent pushes ~10 MB/s of events (reliability target T27). The figure is the daemon's
 * RSS peak with the stalled client against the same run's peak without one.
 *
 * Baseline, same daemon: the same workload run to the end with no stalled reader, after warm-ups
 * (V8 sizes its heap over the first runs); the higher of two control peaks, since identical runs
 * peak up to ~10 MiB apart depending on when V8 collects.
 * @module
 */
import { fakePrompt } from "@hero/core/testing";
import { sampleProc, sleep, startDaemon, until } from "./harness.ts";
import { type BenchContext, figure, type Scenario } from "./types.ts";

interface Config {
  mb: number;
  warmUps: number;
}

function config(mode: BenchContext["mode"]): Config {
  if (mode === "smoke") return { mb: 10, warmUps: 0 };
  return { mb: 80, warmUps: 2 };
}

/** ~`mb` MB of 100 kB lines at ~10 MB/s (5 MB every 0.5 s). */
function burst(mb: number): string {
  const steps = [];
  for (let i = 0; i < mb / 5; i++) steps.push({ lines: 50, bytes: 100_000 }, { sleep: 350 });
  return fakePrompt({ auto: true, steps });
}

function rssMib(pid: number): number {
  return (sampleProc(pid)?.rssKb ?? 0) / 1024;
}

export const scenario: Scenario = {
  name: "stall",
  title: "Stalled SSE client: daemon RSS while an unread /events connection falls behind",
  async run(ctx) {
    const c = config(ctx.mode);
    const dir = `${ctx.tmp}/daemon`;
    await Deno.mkdir(dir, { recursive: true });
    await using d = await startDaemon(dir);
    /** Runs one burst to the end; its RSS peak (MiB), MB/s of lines and seconds. */
    const run = async () => {
      const started = performance.now();
      const agent = await d.client.agent.create({ prompt: burst(c.mb), cwd: d.work });
      let peak = rssMib(d.pid);
      let lastSeq = 0;
      for (;;) {
        peak = Math.max(peak, rssMib(d.pid));
        const a = await d.client.agent.get({ id: agent.id });
        lastSeq = a.last_seq;
        if (a.status !== "running" && a.status !== "queued") break;
        await sleep(100);
      }
      const seconds = (performance.now() - started) / 1000;
      return { peak, seconds, mbS: (lastSeq * 100_000) / 1e6 / seconds };
    };
    ctx.log(`stall: ${c.warmUps} warm-ups and 2 controls of ${c.mb} MB, then the stalled client`);
    const warmUps = [];
    for (let i = 0; i < c.warmUps; i++) warmUps.push((await run()).peak);
    const controls = [await run(), await run()];
    const baseline = Math.max(...controls.map((r) => r.peak));

    const conn = await Deno.connect({ transport: "unix", path: d.socketPath });
    try {
      await conn.write(
        new TextEncoder().encode("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n"),
      );
      await until(
        "the stalled client subscribed",
        async () => (await d.client.system.health()).checks.events.clients === 1,
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      const stalled = await run();
      const health = await d.client.system.health();
      const dropped = health.checks.events.clients === 0 &&
        health.checks.events.dropped_total >= 1;
      return {
        figures: [
          figure({
            id: "stall.rss_peak",
            label: `daemon RSS peak, ${c.mb} MB of events with one stalled /events reader${
              dropped ? "" : " (NOT dropped)"
            }`,
            unit: "MiB",
            value: stalled.peak,
            baseline: {
              label: "same workload, no stalled reader (higher control)",
              value: baseline,
            },
            ratioKind: "diff",
            target: "≤ +20 MiB and the reader dropped (T27)",
            check: (_v, diff) => diff !== null && diff <= 20 && dropped,
            detail: { warm_ups_mib: warmUps, controls_mib: controls.map((r) => r.peak), dropped },
          }),
          figure({
            id: "stall.mb_s",
            label: "event rate while the reader stalls",
            unit: "MB/s",
            value: stalled.mbS,
            baseline: { label: "same workload, no stalled reader", value: controls[1]!.mbS },
            // The workload writes ~10 MB/s when the machine keeps up; a stalled reader must not
            // slow the others, so the rate is held to the same run's control.
            target: "≥ 0.8× the control (~10 MB/s on a quiet machine)",
            check: (_v, ratio) => ratio !== null && ratio >= 0.8,
          }),
        ],
        notes: [
          `controls ${controls.map((r) => r.peak.toFixed(0)).join(", ")} MiB; stalled run ${
            stalled.seconds.toFixed(1)
          } s; reader ${dropped ? "dropped" : "still connected"}`,
        ],
        data: { config: c, warm_ups_mib: warmUps, controls, stalled, dropped },
      };
    } finally {
      conn.close();
    }
  },
};
