/**
 * Scenario `live`: (1) the real `claude` (2.1.328) against the mock API: `agent.send` into the
 * agent's live idle process → the first line of the new turn committed, against the same send
 * through `--resume` (a daemon with live sessions off, so every send spawns a new process), runs
 * alternating in the same run. (2) Daemon CPU with 50 fake agents streaming text as
 * `--include-partial-messages` does (20 `stream_event` deltas/s each, one SSE subscriber reading
 * everything) against the same agents writing only the assembled messages; budget ≤ +10 %.
 * @module
 */
import { realClaudeEnv, startMockAnthropic } from "@hero/core/testing";
import { cpuShare, sampleProc, startDaemon, until, withTimeout } from "./harness.ts";
import { findClaude } from "./real_cli.ts";
import { summarize } from "./stats.ts";
import { type BenchContext, type Figure, figure, type Scenario } from "./types.ts";

const MODEL = "claude-haiku-4-5";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config(mode: BenchContext["mode"]) {
  return mode === "smoke"
    ? { sends: 2, agents: 5, windowS: 2 }
    : mode === "quick"
    ? { sends: 10, agents: 50, windowS: 10 }
    : { sends: 30, agents: 50, windowS: 30 };
}

type Daemon = Awaited<ReturnType<typeof startDaemon>>;

/** Arrival times of committed lines and review states, per agent, from one SSE reader. */
function watch(d: Daemon) {
  const lines = new Map<string, number[]>();
  const review = new Map<string, number[]>();
  const abort = new AbortController();
  const push = (m: Map<string, number[]>, id: string, at: number) => {
    const list = m.get(id) ?? [];
    list.push(at);
    m.set(id, list);
  };
  const pump = (async () => {
    for await (const e of d.client.events({ signal: abort.signal })) {
      const at = performance.now();
      if (e.event === "message") push(lines, e.data.agent_id, at);
      if (e.event === "agent" && e.data.status === "awaiting_review") push(review, e.data.id, at);
    }
  })().catch(() => {});
  return {
    /** The first line of `id` committed after `t0`. */
    firstLineAfter: (id: string, t0: number) =>
      until("a line after the send", () => (lines.get(id) ?? []).some((at) => at > t0), {
        timeoutMs: 60_000,
        intervalMs: 2,
      }).then(() => lines.get(id)!.find((at) => at > t0)!),
    reviewAfter: (id: string, t0: number) =>
      until("awaiting_review", () => (review.get(id) ?? []).some((at) => at > t0), {
        timeoutMs: 60_000,
        intervalMs: 20,
      }),
    async stop() {
      abort.abort();
      await pump;
    },
  };
}

async function sendLatency(ctx: BenchContext, sends: number): Promise<Figure[]> {
  const found = await findClaude();
  if (!found) return [];
  await using mock = await startMockAnthropic();
  const home = `${ctx.tmp}/home`;
  const configDir = `${ctx.tmp}/config`;
  for (const dir of [home, configDir]) await Deno.mkdir(dir, { recursive: true });
  const env = (idleMs: string) => ({
    ...realClaudeEnv({ mockUrl: mock.url, home, configDir, maxRetries: 0 }),
    ANTHROPIC_API_KEY: "",
    ANTHROPIC_AUTH_TOKEN: "sk-test",
    HOME: home,
    HERO_ORCHESTRATOR_CLAUDE_BIN: found.bin,
    HERO_ORCHESTRATOR_MODELS: `${MODEL},claude-sonnet-4-6`,
    HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES: "0",
    HERO_ORCHESTRATOR_CHILD_ENV: "DISABLE_TELEMETRY",
    HERO_ORCHESTRATOR_SESSION_IDLE_MS: idleMs,
    ANTHROPIC_BASE_URL: mock.url,
    CLAUDE_CONFIG_DIR: configDir,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
  });
  await using live = await startDaemon(`${ctx.tmp}/live`, env("600000"));
  await using resumed = await startDaemon(`${ctx.tmp}/resumed`, env("0"));
  const sides = [live, resumed].map((d) => ({ d, w: watch(d), ms: [] as number[], id: "" }));
  for (const side of sides) {
    const t0 = performance.now();
    const a = await side.d.client.agent.create({
      prompt: "say hi",
      cwd: side.d.work,
      model: MODEL,
      effort: "low",
    });
    side.id = a.id;
    await side.w.reviewAfter(a.id, t0);
    await until("the agent settled", async () => {
      const agent = await side.d.client.agent.get({ id: a.id });
      return agent.status === "awaiting_review" && (side.d === live ? agent.live : !agent.live);
    }, { timeoutMs: 60_000, intervalMs: 50 });
  }
  ctx.log(`live: ${sends} sends into the live process and through --resume, alternating`);
  for (let i = 0; i <= sends; i++) {
    for (const side of sides) {
      const t0 = performance.now();
      const sent = await side.d.client.agent.send({ id: side.id, prompt: `next ${i}` });
      const first = await side.w.firstLineAfter(side.id, t0);
      await side.w.reviewAfter(side.id, t0);
      await until("the agent settled", async () => {
        const agent = await side.d.client.agent.get({ id: side.id });
        return agent.status === "awaiting_review" && (side.d === live ? agent.live : !agent.live);
      }, { timeoutMs: 60_000, intervalMs: 50 });
      const expected = side.d === live ? "started" : "resumed";
      if (sent.delivery !== expected) {
        throw new Error(`Cannot time agent.send: delivery ${sent.delivery}, not ${expected}`);
      }
      if (i > 0) side.ms.push(first - t0); // the first of each is a warm-up
    }
  }
  for (const side of sides) await side.w.stop();
  const [s, r] = sides.map((side) => summarize(side.ms));
  return [
    figure({
      id: "live.send_first_line.p50",
      label: `real claude: agent.send into the live idle process → first line, p50 (n=${sends})`,
      unit: "ms",
      value: s!.p50,
      baseline: { label: "the same send through --resume (new process), p50", value: r!.p50 },
      detail: { live: s, resumed: r },
    }),
    figure({
      id: "live.send_first_line.p99",
      label: `real claude: agent.send into the live idle process → first line, p99 (n=${sends})`,
      unit: "ms",
      value: s!.p99,
      baseline: { label: "the same send through --resume (new process), p99", value: r!.p99 },
      detail: { live: s, resumed: r },
    }),
  ];
}

/** Fake-claude steps: `seconds` of messages, 2 a second, each written as 10 deltas when asked. */
function streamSteps(seconds: number, deltas: boolean): unknown[] {
  const steps: unknown[] = [];
  const words = "the model writes this answer a few words at a time ".split(" ");
  for (let i = 0; i < seconds * 2; i++) {
    if (deltas) {
      for (let j = 0; j < 10; j++) {
        steps.push({
          line: {
            type: "stream_event",
            event: {
              type: "content_block_delta",
              index: 0,
              delta: { type: "text_delta", text: `${words[j % words.length]} ` },
            },
            session_id: "{{session_id}}",
            parent_tool_use_id: null,
          },
        }, { sleep: 50 });
      }
    } else steps.push({ sleep: 500 });
    steps.push({ text: words.join(" ").repeat(2) });
  }
  return steps;
}

async function deltaCpu(ctx: BenchContext, agents: number, windowS: number): Promise<Figure[]> {
  const shares: Record<string, number> = {};
  let deltasSeen = 0;
  for (const deltas of [false, true]) {
    const name = deltas ? "deltas" : "plain";
    const path = `${ctx.tmp}/${name}.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({ auto: true, steps: streamSteps(windowS + 60, deltas) }),
    );
    await using d = await startDaemon(`${ctx.tmp}/cpu_${name}`, {
      HERO_ORCHESTRATOR_MAX_CONCURRENT: String(agents),
    });
    const abort = new AbortController();
    const reader = (async () => {
      const events = d.client.events({ signal: abort.signal, onDelta: () => deltasSeen++ });
      for await (const _ of events) { /* read everything, as the admin does */ }
    })().catch(() => {});
    const ids: string[] = [];
    for (let i = 0; i < agents; i++) {
      ids.push((await d.client.agent.create({ prompt: `FAKE_FILE:${path}`, cwd: d.work })).id);
    }
    await until(`${agents} agents streaming (${name})`, async () => {
      const page = await d.client.agent.list({ bucket: "running", limit: 500 });
      return page.agents.filter((a) => a.last_seq >= 2).length === agents;
    }, { timeoutMs: 180_000, intervalMs: 250 });
    ctx.log(`live: ${agents} agents streaming, ${name}: ${windowS} s window`);
    const a = sampleProc(d.pid)!;
    await sleep(windowS * 1000);
    shares[name] = cpuShare(a, sampleProc(d.pid)!);
    ctx.log(`live: ${name}: ${shares[name]!.toFixed(3)} cores; stopping the agents`);
    abort.abort();
    await withTimeout(reader, 5_000, "the SSE reader to stop").catch(() => {});
    // The daemon's shutdown stops whatever a slow cancel left running.
    await withTimeout(
      Promise.all(ids.map((id) => d.client.agent.cancel({ id }))),
      60_000,
      "the agents to stop",
    ).catch((err) => ctx.log(`live: ${err instanceof Error ? err.message : err}`));
  }
  return [figure({
    id: "live.delta_cpu",
    label: `daemon CPU, ${agents} agents streaming with deltas (20/s each, one SSE reader)`,
    unit: "cores",
    value: shares.deltas!,
    baseline: { label: "the same agents, assembled messages only", value: shares.plain! },
    target: "≤ 1.10× (≤ 10 % more)",
    check: (v) => v <= shares.plain! * 1.1,
    detail: { ...shares, deltas_seen_by_reader: deltasSeen },
  })];
}

export const scenario: Scenario = {
  name: "live",
  title: "Live sessions: send into a live process vs --resume; delta CPU at 50 agents",
  async run(ctx) {
    const c = config(ctx.mode);
    const figures = [
      ...await sendLatency(ctx, c.sends),
      ...await deltaCpu(ctx, c.agents, c.windowS),
    ];
    return {
      figures,
      notes: figures.some((f) => f.id.startsWith("live.send"))
        ? []
        : ["no claude CLI: the send latency was not measured"],
    };
  },
};
