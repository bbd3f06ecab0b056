/**
 * Scenario 3, fan-out: 100 SSE subscribers (`GET /events` through the SDK) while 50 agents stream.
 * The agents are the timestamping fake (`stamp_claude.ts`): each line carries the time the fake
 * wrote it, so the latency is fake write → commit → publish → every subscriber's parsed event.
 *
 * Baseline, same run: the same 50 fakes read straight through pipes by this process (no daemon):
 * the machine's own write → read latency under that load.
 * @module
 */
import {
  busyCores,
  cpuShare,
  machineCpu,
  nowEpochMs,
  sampleProc,
  sleep,
  spawnWithPrompt,
  startDaemon,
  until,
  withTimeout,
} from "./harness.ts";
import { summarize } from "./stats.ts";
import { sentAt, writeStampClaude } from "./stamp_claude.ts";
import { type BenchContext, type Figure, figure, type Scenario } from "./types.ts";

interface Config {
  agents: number;
  subscribers: number;
  linesPerSecond: number;
  seconds: number;
  bytes: number;
}

function config(mode: BenchContext["mode"]): Config {
  if (mode === "smoke") {
    return { agents: 3, subscribers: 5, linesPerSecond: 10, seconds: 2, bytes: 600 };
  }
  return {
    agents: 50,
    subscribers: 100,
    linesPerSecond: 5,
    seconds: mode === "quick" ? 8 : 15,
    bytes: 600,
  };
}

/** The stamp as it appears inside an event's `raw` JSON string. */
const STAMP = '\\"sent_at\\":';

/** Latencies (ms) skip the first second of streaming: spawns and connections settle. */
const WARMUP_MS = 1_000;

interface Measured {
  latencies: number[];
  perSubscriber: number[];
  daemonCores: number;
  machineCores: number;
  events: number;
}

export async function throughDaemon(
  ctx: BenchContext,
  c: Config,
  bin: string,
  extra: Record<string, string>,
  tag: string,
): Promise<Measured> {
  const dir = `${ctx.tmp}/${tag}`;
  await Deno.mkdir(dir, { recursive: true });
  await using d = await startDaemon(dir, {
    HERO_ORCHESTRATOR_CLAUDE_BIN: bin,
    HERO_ORCHESTRATOR_MAX_CONCURRENT: String(c.agents),
    ...extra,
  });
  const abort = new AbortController();
  const latencies: number[] = [];
  const perSubscriber: number[] = [];
  let from = Infinity;
  let events = 0;
  const connected = Promise.withResolvers<void>();
  let open = 0;
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  // Light subscribers: GET /events (what the SDK and the admin UI use) with a byte-level scan for
  // the stamp instead of a full SSE + JSON parse, so this process's own parsing (100 streams on
  // the same 2 cores) adds as little as possible to the figure.
  const subs = Array.from({ length: c.subscribers }, async (_, i) => {
    perSubscriber[i] = 0;
    const decoder = new TextDecoder();
    try {
      const response = await d.fetch("http://localhost/events", {
        headers: { accept: "text/event-stream" },
        signal: abort.signal,
      });
      if (response.status !== 200 || !response.body) {
        throw new Error(`Cannot subscribe: HTTP ${response.status} ${await response.text()}`);
      }
      if (++open === c.subscribers) connected.resolve();
      let carry = "";
      const reader = response.body.getReader();
      readers.push(reader);
      for (;;) {
        const { value: chunk, done } = await reader.read();
        if (done) break;
        const at = nowEpochMs();
        const text = carry + decoder.decode(chunk, { stream: true });
        const end = text.lastIndexOf("\n\n");
        if (end < 0) {
          carry = text;
          continue;
        }
        carry = text.slice(end + 2);
        let k = text.indexOf(STAMP);
        while (k >= 0 && k < end) {
          events++;
          const sent = parseFloat(text.slice(k + STAMP.length, k + STAMP.length + 24));
          if (sent >= from) {
            latencies.push(at - sent);
            perSubscriber[i]!++;
          }
          k = text.indexOf(STAMP, k + STAMP.length);
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        connected.reject(err);
        throw err;
      }
    }
  });
  const prompt = JSON.stringify({
    lines: Math.round(c.linesPerSecond * c.seconds),
    intervalMs: 1000 / c.linesPerSecond,
    bytes: c.bytes,
  });
  await withTimeout(connected.promise, 30_000, `${c.subscribers} event streams to open`);
  const ids = (await Promise.all(
    Array.from({ length: c.agents }, () => d.client.agent.create({ prompt, cwd: d.work })),
  )).map((a) => a.id);
  from = nowEpochMs() + WARMUP_MS;
  const p0 = sampleProc(d.pid)!;
  const m0 = machineCpu();
  await until(
    "the fan-out agents to finish",
    async () => (await d.client.agent.list({ bucket: "running", limit: 1 })).agents.length === 0,
    { timeoutMs: c.seconds * 1000 + 60_000, intervalMs: 250 },
  );
  const p1 = sampleProc(d.pid)!;
  const m1 = machineCpu();
  // Let the last events reach every subscriber.
  await sleep(300);
  // Cancelling the readers ends a pending read at once (an abort alone may wait for data).
  abort.abort();
  for (const r of readers) r.cancel().catch(() => {});
  await withTimeout(Promise.all(subs), 30_000, "the event streams to end");
  const health = await d.client.system.health({}).catch(() => null);
  if (health && health.checks.events.dropped_total > 0) {
    ctx.log(`fanout: the server dropped ${health.checks.events.dropped_total} slow streams`);
  }
  void ids;
  return {
    latencies,
    perSubscriber,
    daemonCores: cpuShare(p0, p1),
    machineCores: busyCores(m0, m1),
    events,
  };
}

/** The same fakes, read straight through pipes by this process. */
async function throughPipes(c: Config, bin: string, cwd: string): Promise<Measured> {
  const prompt = JSON.stringify({
    lines: Math.round(c.linesPerSecond * c.seconds),
    intervalMs: 1000 / c.linesPerSecond,
    bytes: c.bytes,
  });
  const latencies: number[] = [];
  const from = nowEpochMs() + WARMUP_MS;
  const m0 = machineCpu();
  const decoder = new TextDecoder();
  await Promise.all(Array.from({ length: c.agents }, async () => {
    const child = await spawnWithPrompt({ bin, cwd, prompt });
    let buf = "";
    for await (const chunk of child.stdout) {
      const at = nowEpochMs();
      buf += decoder.decode(chunk, { stream: true });
      let nl = buf.indexOf("\n");
      let done = false;
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{"type":"result"')) done = true;
        const sent = sentAt(line);
        if (Number.isFinite(sent) && sent >= from) latencies.push(at - sent);
        nl = buf.indexOf("\n");
      }
      if (done) break;
    }
    await child.stdin.close().catch(() => {});
    await child.status;
  }));
  return {
    latencies,
    perSubscriber: [],
    daemonCores: 0,
    machineCores: busyCores(m0, machineCpu()),
    events: latencies.length,
  };
}

export const scenario: Scenario = {
  name: "fanout",
  title: "Fan-out: SSE subscribers while agents stream; fake write → subscriber latency",
  async run(ctx) {
    const c = config(ctx.mode);
    const bin = await writeStampClaude(ctx.tmp);
    await Deno.mkdir(`${ctx.tmp}/work`, { recursive: true });
    ctx.log(
      `fanout: ${c.subscribers} subscribers, ${c.agents} agents × ${c.linesPerSecond} lines/s for ${c.seconds} s`,
    );
    const main = await throughDaemon(ctx, c, bin, {}, "default");
    ctx.log("fanout: baseline (pipes)");
    const pipes = await throughPipes(c, bin, `${ctx.tmp}/work`);
    const m = summarize(main.latencies);
    const p = summarize(pipes.latencies);
    const expected = c.subscribers * c.agents * Math.round(c.linesPerSecond * c.seconds);
    const figures: Figure[] = [
      figure({
        id: "fanout.p50",
        label: `${c.subscribers} subscribers × ${c.agents} agents: write → event, p50`,
        unit: "ms",
        value: m.p50,
        baseline: { label: "same fakes → pipes, p50", value: p.p50 },
        ratioKind: "diff",
      }),
      figure({
        id: "fanout.p99",
        label: `${c.subscribers} subscribers × ${c.agents} agents: write → event, p99`,
        unit: "ms",
        value: m.p99,
        baseline: { label: "same fakes → pipes, p99", value: p.p99 },
        ratioKind: "diff",
        target: "p99 ≤ 20 ms",
        check: (v) => v <= 20,
      }),
    ];
    const notes = [
      `${c.agents} agents × ${c.linesPerSecond} lines/s of ${c.bytes} B = ${
        c.agents * c.linesPerSecond
      } lines/s, ${c.subscribers * c.agents * c.linesPerSecond} events/s to subscribers; daemon ${
        main.daemonCores.toFixed(2)
      } cores, machine ${
        main.machineCores.toFixed(2)
      }; ${main.events} of ~${expected} events received`,
    ];
    const data: Record<string, unknown> = {
      config: c,
      daemon: { ...main, latencies: undefined, summary: m },
      pipes: { summary: p },
    };
    if (ctx.mode === "full") {
      // What the group-commit delay contributes: the same run with a 1 ms delay.
      ctx.log("fanout: sensitivity run with HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS=1");
      const fast = await throughDaemon(
        ctx,
        c,
        bin,
        { HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS: "1" },
        "delay1",
      );
      const f = summarize(fast.latencies);
      figures.push(figure({
        id: "fanout.p99.delay1",
        label: `same, group-commit delay 1 ms (sensitivity), p99 (p50 ${f.p50.toFixed(1)} ms)`,
        unit: "ms",
        value: f.p99,
        baseline: { label: "same fakes → pipes, p99", value: p.p99 },
        ratioKind: "diff",
        target: "p99 ≤ 20 ms",
        check: (v) => v <= 20,
        detail: { summary: f },
      }));
      data.delay1 = { ...fast, latencies: undefined, summary: f };
    }
    return { figures, notes, data };
  },
};
