/**
 * Scenario 2, spawn: `agent.create` over the SDK → the agent's first line committed (seen on the
 * event stream), one agent at a time, against a direct `Deno.Command` spawn of the same fake with
 * the same argv to its first stdout line. The two alternate, so both see the same noise.
 * @module
 */
import { buildClaudeArgs } from "@hero/core/claude";
import { FAKE_CLAUDE_BIN, spawnWithPrompt, startDaemon, withTimeout } from "./harness.ts";
import { summarize } from "./stats.ts";
import { type BenchContext, figure, type Scenario } from "./types.ts";

const ARGS = buildClaudeArgs({
  model: "claude-sonnet-4-6",
  effort: "medium",
  permissionMode: "bypassPermissions",
});
const PROMPT = "hi";

function count(mode: BenchContext["mode"]): number {
  return mode === "smoke" ? 5 : mode === "quick" ? 40 : 200;
}

/** Spawn → first stdout line of the fake, ms. */
async function directSpawn(cwd: string): Promise<number> {
  const t0 = performance.now();
  const child = await spawnWithPrompt({ bin: FAKE_CLAUDE_BIN, args: ARGS, cwd, prompt: PROMPT });
  const reader = child.stdout.getReader();
  let ms = NaN;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (value.includes(10)) {
      ms = performance.now() - t0;
      break;
    }
  }
  await child.stdin.close().catch(() => {});
  reader.cancel().catch(() => {});
  await child.status;
  if (!Number.isFinite(ms)) throw new Error("Cannot time a direct spawn: the fake printed nothing");
  return ms;
}

interface Samples {
  daemon: number[];
  direct: number[];
  createRpc: number[];
}

/** `n` alternating pairs: a direct spawn, then an agent through a daemon started with `extra`. */
async function measure(
  ctx: BenchContext,
  n: number,
  dir: string,
  extra: Record<string, string>,
): Promise<Samples> {
  await Deno.mkdir(dir, { recursive: true });
  await using d = await startDaemon(dir, extra);
  // One event stream; each agent's first message event and its awaiting_review are awaited.
  const firstLine = new Map<string, PromiseWithResolvers<number>>();
  const finished = new Map<string, PromiseWithResolvers<void>>();
  const waiter = <T>(map: Map<string, PromiseWithResolvers<T>>, id: string) => {
    let w = map.get(id);
    if (!w) map.set(id, w = Promise.withResolvers<T>());
    return w;
  };
  const abort = new AbortController();
  // From event 0: whatever happens before the stream is connected is replayed, not missed.
  const events = d.client.events({ signal: abort.signal, lastEventId: 0 });
  const pump = (async () => {
    for await (const e of events) {
      const at = performance.now();
      if (e.event === "message" && e.data.seq === 1) waiter(firstLine, e.data.agent_id).resolve(at);
      if (
        e.event === "agent" && (e.data.status === "awaiting_review" || e.data.status === "failed")
      ) waiter(finished, e.data.id).resolve();
    }
  })().catch(() => {});
  // Warm both paths (deno's module cache, the daemon's first spawn) before measuring.
  const warm = await d.client.agent.create({ prompt: PROMPT, cwd: d.work });
  await withTimeout(waiter(finished, warm.id).promise, 30_000, "the warm-up agent");
  await directSpawn(d.work);

  const out: Samples = { daemon: [], direct: [], createRpc: [] };
  for (let i = 0; i < n; i++) {
    out.direct.push(await directSpawn(d.work));
    const t0 = performance.now();
    const agent = await d.client.agent.create({ prompt: PROMPT, cwd: d.work });
    out.createRpc.push(performance.now() - t0);
    const at = await withTimeout(waiter(firstLine, agent.id).promise, 30_000, "a first line");
    out.daemon.push(at - t0);
    await withTimeout(waiter(finished, agent.id).promise, 30_000, "an agent to finish");
    if (i % 50 === 49) ctx.log(`spawn: ${i + 1}/${n}`);
  }
  abort.abort();
  await pump;
  return out;
}

export const scenario: Scenario = {
  name: "spawn",
  title: "Spawn: agent.create → first line committed, vs a direct spawn of the fake",
  async run(ctx) {
    const n = count(ctx.mode);
    const main = await measure(ctx, n, `${ctx.tmp}/default`, {});
    const s = summarize(main.daemon);
    const b = summarize(main.direct);
    const rpc = summarize(main.createRpc);
    const figures = [
      figure({
        id: "spawn.first_line.p50",
        label: `agent.create → first line committed, p50 (n=${n})`,
        unit: "ms",
        value: s.p50,
        baseline: { label: "direct Deno.Command spawn → first line, p50", value: b.p50 },
        ratioKind: "diff",
        target: "overhead ≤ 5 ms p50",
        check: (_v, diff) => diff !== null && diff <= 5,
      }),
      figure({
        id: "spawn.first_line.p99",
        label: `agent.create → first line committed, p99 (n=${n})`,
        unit: "ms",
        value: s.p99,
        baseline: { label: "direct spawn, p99", value: b.p99 },
        ratioKind: "diff",
      }),
      figure({
        id: "spawn.create_rpc.p50",
        label: `agent.create answer, p50 (p99 ${rpc.p99.toFixed(1)} ms)`,
        unit: "ms",
        value: rpc.p50,
        baseline: null,
        detail: { summary: rpc },
      }),
    ];
    const data: Record<string, unknown> = {
      daemon: s,
      direct: b,
      create_rpc: rpc,
      samples: main,
    };
    const notes = [
      "group commit: a line after an idle spell commits at once, else twice the last commit's cost (≤ HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS, 50 ms)",
    ];
    if (ctx.mode !== "smoke") {
      // What the group-commit delay contributes: the same with a 1 ms delay.
      const m = Math.max(10, Math.round(n / 4));
      ctx.log(`spawn: sensitivity run, ${m} agents, HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS=1`);
      const fast = await measure(ctx, m, `${ctx.tmp}/delay1`, {
        HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS: "1",
      });
      const fs = summarize(fast.daemon);
      const fb = summarize(fast.direct);
      figures.push(figure({
        id: "spawn.first_line.p50.delay1",
        label: `same, group-commit delay 1 ms (sensitivity), p50 (n=${m})`,
        unit: "ms",
        value: fs.p50,
        baseline: { label: "direct spawn, p50", value: fb.p50 },
        ratioKind: "diff",
        target: "overhead ≤ 5 ms p50",
        check: (_v, diff) => diff !== null && diff <= 5,
      }));
      data.delay1 = { daemon: fs, direct: fb, create_rpc: summarize(fast.createRpc) };
    }
    return { figures, notes, data };
  },
};
