/**
 * Reliability target T27: a stalled SSE reader must not grow the daemon's memory. The daemon runs
 * as a child process; one client opens /events over a raw Unix connection and never reads while
 * agents push ~10 MB/s of events. RSS may grow by at most 20 MiB and the client is dropped.
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

/** ~`mb` MB of 100 kB lines at ~10 MB/s (5 MB every 0.5 s). */
function burst(mb: number): string {
  const steps = [];
  for (let i = 0; i < mb / 5; i++) steps.push({ lines: 50, bytes: 100_000 }, { sleep: 350 });
  return fakePrompt({ auto: true, steps });
}

Deno.test("events: a stalled SSE client does not grow daemon RSS by more than 20 MiB", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  await using daemon = await spawnDaemon(t.env);
  const transport = unixFetch(paths.rpcSocket);
  const client = createClient({ fetch: transport.fetch });
  try {
    // Warm-ups, then two control runs with the same workload and no stalled reader. The higher
    // control PEAK is the baseline: peak against peak, after the heap has settled, so what is
    // left is what the stalled client costs. One control alone is too noisy: identical runs
    // peak up to ~10 MiB apart depending on when V8 collects.
    const runToEnd = async (id: string) => {
      let peak = rssBytes(daemon.pid);
      await waitFor("run done", async () => {
        peak = Math.max(peak, rssBytes(daemon.pid));
        return (await client.agent.get({ id })).status === "awaiting_review";
      }, 60_000);
      return peak;
    };
    const control = async () =>
      await runToEnd((await client.agent.create({ prompt: burst(80), cwd: t.work })).id);
    // RSS climbs over the first runs while V8 sizes its heap (~100 → ~130 MiB), then plateaus.
    const warmUp = [await control(), await control()];
    const controls = [await control(), await control()];
    const baseline = Math.max(...controls);

    const conn = await Deno.connect({ transport: "unix", path: paths.rpcSocket });
    await conn.write(new TextEncoder().encode("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    await waitFor(
      "subscribed",
      async () => (await client.system.health()).checks.events.clients === 1,
    );

    const started = Date.now();
    const load = await client.agent.create({ prompt: burst(80), cwd: t.work });
    let peak = baseline;
    let bytes = 0;
    for (;;) {
      peak = Math.max(peak, rssBytes(daemon.pid));
      const a = await client.agent.get({ id: load.id });
      bytes = a.last_seq * 100_000;
      if (a.status !== "running" && a.status !== "queued") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - started) / 1000;
    const health = await client.system.health();
    const growth = (peak - baseline) / (1024 * 1024);
    console.log(
      `peaks without a stalled client: warm-ups ${warmUp.map(mib).join(", ")}, controls ${
        controls.map(mib).join(", ")
      } MiB\n` +
        `stalled client: ${(bytes / 1e6 / seconds).toFixed(1)} MB/s over ${
          seconds.toFixed(1)
        } s, ` +
        `RSS ${(baseline / 1048576).toFixed(0)} → peak ${(peak / 1048576).toFixed(0)} MiB (+${
          growth.toFixed(1)
        })`,
    );
    assert.ok(bytes / seconds > 8e6, "events really flowed at ~10 MB/s");
    assert.ok(growth <= 20, `RSS grew ${growth.toFixed(1)} MiB`);
    assert.equal(health.checks.events.clients, 0, "the stalled client was dropped");
    assert.ok(health.checks.events.dropped_total >= 1);
    conn.close();
  } finally {
    transport.close();
  }
});
