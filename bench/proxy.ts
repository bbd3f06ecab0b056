/**
 * Scenario 7, proxy: time to first byte and streaming throughput of `POST /v1/messages` through
 * the daemon's quota proxy (proxy.sock, inside the real server, with a live agent's token) versus
 * the same requests straight to the mock API. The mock runs in this process for both paths; the
 * agent is a fake claude that records its environment (the token) and waits.
 * @module
 */
import { FAKE_CLAUDE_BIN, fakePrompt, sseResponse, startMockAnthropic } from "@hero/core/testing";
import { unixFetch } from "@hero/server/testing/unix_fetch";
import { startDaemon, until } from "./harness.ts";
import { median, summarize } from "./stats.ts";
import { type BenchContext, figure, NotRunError, type Scenario } from "./types.ts";

function reps(mode: BenchContext["mode"]): { ttfb: number; stream: number } {
  if (mode === "smoke") return { ttfb: 10, stream: 2 };
  if (mode === "quick") return { ttfb: 60, stream: 5 };
  return { ttfb: 200, stream: 15 };
}

/** The streamed reply: this many text deltas of this many characters (~3 MB of SSE). */
const DELTAS = 20_000;
const DELTA_CHARS = 100;
const STREAM_KEYWORD = "BENCH_STREAM";

function body(prompt: string): string {
  return JSON.stringify({
    model: "claude-haiku-4-5",
    max_tokens: 1024,
    stream: true,
    messages: [{ role: "user", content: [{ type: "text", text: prompt }] }],
  });
}

interface Target {
  fetch: typeof fetch;
  url: string;
  headers: Record<string, string>;
}

/** ms to the first body byte, and to the end; bytes read. */
async function request(
  t: Target,
  prompt: string,
): Promise<{ ttfb: number; total: number; bytes: number }> {
  const t0 = performance.now();
  const response = await t.fetch(t.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      ...t.headers,
    },
    body: body(prompt),
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`Cannot stream a reply: HTTP ${response.status} ${await response.text()}`);
  }
  let ttfb = NaN;
  let bytes = 0;
  for await (const chunk of response.body) {
    if (Number.isNaN(ttfb)) ttfb = performance.now() - t0;
    bytes += chunk.byteLength;
  }
  return { ttfb, total: performance.now() - t0, bytes };
}

export const scenario: Scenario = {
  name: "proxy",
  title: "Proxy: time to first byte and throughput through the quota proxy vs the mock API",
  async run(ctx) {
    try {
      await import("@hero/core/proxy");
    } catch (err) {
      throw new NotRunError(
        `core/proxy does not load: ${err instanceof Error ? err.message : err}`,
      );
    }
    const n = reps(ctx.mode);
    await using mock = await startMockAnthropic({
      handler(req) {
        if (!req.rawBody.includes(STREAM_KEYWORD)) return undefined;
        const chunk = "x".repeat(DELTA_CHARS);
        return sseResponse({
          blocks: [{ type: "text", text: chunk.repeat(DELTAS) }],
          textChunks: Array.from({ length: DELTAS }, () => chunk),
        });
      },
    });
    // The mock keeps every request: fine for a few hundred.
    const dir = `${ctx.tmp}/daemon`;
    await Deno.mkdir(dir, { recursive: true });
    await using d = await startDaemon(dir, {
      HERO_ORCHESTRATOR_CLAUDE_BIN: FAKE_CLAUDE_BIN,
      HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
      HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
      // The credential the proxy injects upstream (the mock accepts any).
      ANTHROPIC_AUTH_TOKEN: "sk-upstream-bench",
    });
    const record = `${dir}/agent_env.json`;
    const agent = await d.client.agent.create({
      prompt: fakePrompt([{ record }, { hang: true }]),
      cwd: d.work,
    });
    const env = await until("the agent's recorded environment", async () => {
      try {
        return JSON.parse(await Deno.readTextFile(record)).env as Record<string, string>;
      } catch {
        return undefined;
      }
    }, { timeoutMs: 30_000, intervalMs: 50 });
    const token = env.ANTHROPIC_AUTH_TOKEN;
    const socket = env.ANTHROPIC_UNIX_SOCKET;
    const base = env.ANTHROPIC_BASE_URL;
    if (!token?.startsWith("hop_") || !socket || !base) {
      await d.client.agent.cancel({ id: agent.id }).catch(() => {});
      throw new NotRunError(
        "the agent did not get a proxy token, socket and base URL (HERO_ORCHESTRATOR_PROXY_SCOPE=all)",
      );
    }
    const viaSocket = unixFetch(socket);
    const proxied: Target = {
      fetch: viaSocket.fetch,
      url: `${base.replace(/\/+$/, "")}/v1/messages?beta=true`,
      headers: { authorization: `Bearer ${token}` },
    };
    const direct: Target = {
      fetch: (input, init) => fetch(input, init),
      url: `${mock.url}/v1/messages?beta=true`,
      headers: { authorization: "Bearer sk-upstream-bench" },
    };
    try {
      ctx.log(
        `proxy: ${n.ttfb} short replies and ${n.stream} streamed replies each way, alternating`,
      );
      for (let i = 0; i < 5; i++) {
        await request(proxied, "hi");
        await request(direct, "hi");
      }
      const ttfbProxy: number[] = [];
      const ttfbDirect: number[] = [];
      for (let i = 0; i < n.ttfb; i++) {
        ttfbProxy.push((await request(proxied, "hi")).ttfb);
        ttfbDirect.push((await request(direct, "hi")).ttfb);
      }
      const mbProxy: number[] = [];
      const mbDirect: number[] = [];
      let streamBytes = 0;
      for (let i = 0; i < n.stream; i++) {
        const p = await request(proxied, STREAM_KEYWORD);
        const q = await request(direct, STREAM_KEYWORD);
        streamBytes = q.bytes;
        if (p.bytes !== q.bytes) {
          throw new Error(
            `Cannot compare streams: ${p.bytes} bytes via the proxy, ${q.bytes} direct`,
          );
        }
        mbProxy.push(p.bytes / 1e6 / (p.total / 1000));
        mbDirect.push(q.bytes / 1e6 / (q.total / 1000));
      }
      const tp = summarize(ttfbProxy);
      const td = summarize(ttfbDirect);
      return {
        figures: [
          figure({
            id: "proxy.ttfb.p50",
            label: `TTFB through the proxy, p50 (n=${n.ttfb})`,
            unit: "ms",
            value: tp.p50,
            baseline: { label: "mock directly, p50", value: td.p50 },
            ratioKind: "diff",
          }),
          figure({
            id: "proxy.ttfb.p99",
            label: `TTFB through the proxy, p99 (n=${n.ttfb})`,
            unit: "ms",
            value: tp.p99,
            baseline: { label: "mock directly, p99", value: td.p99 },
            ratioKind: "diff",
            target: "adds ≤ 20 ms p99 (T37)",
            check: (_v, diff) => diff !== null && diff <= 20,
          }),
          figure({
            id: "proxy.stream_mb_s",
            label: `streamed reply (${
              (streamBytes / 1e6).toFixed(1)
            } MB, ${DELTAS} deltas), median`,
            unit: "MB/s",
            value: median(mbProxy),
            baseline: { label: "mock directly", value: median(mbDirect) },
          }),
        ],
        notes: [
          "proxy inside the server process (proxy.sock, a live agent's token); mock API in the bench process for both paths",
        ],
        data: { ttfb_proxy: tp, ttfb_direct: td, mb_s_proxy: mbProxy, mb_s_direct: mbDirect },
      };
    } finally {
      viaSocket.close();
      await d.client.agent.cancel({ id: agent.id }).catch(() => {});
    }
  },
};
