/**
 * Reliability target T27: a stalled SSE reader must not grow the daemon's memory. The daemon runs
 * as a child process; one client opens /events over a raw Unix connection and never reads while an
 * agent pushes 80 MB of events. The client is dropped, and the daemon did not keep what it could
 * not send: its RSS grows by well under the stream it fell behind on. The T27 figures (≤ +20 MiB
 * over a control peak, ~10 MB/s) are bench/stall.ts's, same-run against a control; a test at load
 * cannot tell 20 MiB from V8's own swings.
 */
import assert from "node:assert/strict";
import { resolvePaths } from "@hero/core/config";
import { fakePrompt } from "@hero/core/testing";
import { createClient } from "@hero/sdk";
import { spawnDaemon, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return kb ? Number(kb[1]) * 1024 : 0;
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(0);
}

/** MB the agent writes per run. */
const MB = 80;

/** ~`mb` MB of 100 kB lines at ~10 MB/s (5 MB every 0.5 s). */
function burst(mb: number): string {
  const steps = [];
  for (let i = 0; i < mb / 5; i++) steps.push({ lines: 50, bytes: 100_000 }, { sleep: 350 });
  return fakePrompt({ auto: true, steps });
}

Deno.test("events: a stalled SSE client is dropped and the daemon does not hold its backlog", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  await using daemon = await spawnDaemon(t.env);
  const transport = unixFetch(paths.rpcSocket);
  const client = createClient({ fetch: transport.fetch });
  try {
    const runToEnd = async (id: string) => {
      let peak = rssBytes(daemon.pid);
      await waitFor("run done", async () => {
        peak = Math.max(peak, rssBytes(daemon.pid));
        return (await client.agent.get({ id })).status === "awaiting_review";
      }, 120_000);
      return peak;
    };
    // Two control runs size V8's heap (RSS climbs ~100 → ~130 MiB over the first runs); the
    // higher peak is the reference the stalled run is held to.
    const control = async () =>
      await runToEnd((await client.agent.create({ prompt: burst(MB), cwd: t.work })).id);
    const baseline = Math.max(await control(), await control());

    const conn = await Deno.connect({ transport: "unix", path: paths.rpcSocket });
    await conn.write(new TextEncoder().encode("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    await waitFor(
      "subscribed",
      async () => (await client.system.health()).checks.events.clients === 1,
    );

    const started = Date.now();
    const load = await client.agent.create({ prompt: burst(MB), cwd: t.work });
    let peak = baseline;
    let lines = 0;
    for (;;) {
      peak = Math.max(peak, rssBytes(daemon.pid));
      const a = await client.agent.get({ id: load.id });
      lines = a.last_seq;
      if (a.status !== "running" && a.status !== "queued") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - started) / 1000;
    const health = await client.system.health();
    const growth = (peak - baseline) / (1024 * 1024);
    console.log(
      `stalled client: ${(lines / 10 / seconds).toFixed(1)} MB/s over ${seconds.toFixed(1)} s, ` +
        `RSS ${mib(baseline)} (control peak) → peak ${mib(peak)} MiB (+${growth.toFixed(1)})`,
    );
    assert.ok(lines >= MB * 10, `only ${lines} lines of the ${MB * 10}-line burst were stored`);
    // Holding the backlog would cost about the whole stream (80 MB of lines as events); half of
    // it leaves room for V8's swings at any load.
    assert.ok(growth <= MB / 2, `RSS grew ${growth.toFixed(1)} MiB while ${MB} MB went unread`);
    assert.equal(health.checks.events.clients, 0, "the stalled client was dropped");
    assert.ok(health.checks.events.dropped_total >= 1);
    conn.close();
  } finally {
    transport.close();
  }
});
