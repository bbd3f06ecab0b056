import assert from "node:assert/strict";
import { CredentialSource } from "../proxy/mod.ts";
import { openStore, type Store } from "../store/mod.ts";
import { startMockAnthropic } from "../testing/mod.ts";
import { parseUsageWindows, UsagePoller } from "./poll.ts";

/** A temp dir with a fresh store, removed on dispose. */
async function storeFixture(): Promise<{ dir: string; store: Store } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "hero_usage_" });
  const store = openStore(`${dir}/db.sqlite`);
  return {
    dir,
    store,
    async [Symbol.asyncDispose]() {
      store.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("UsagePoller: off without an OAuth credential; with one, polls the configured URL and stores readings", async () => {
  await using fx = await storeFixture();
  const log = () => {};
  const off = new UsagePoller({
    store: fx.store,
    credentials: new CredentialSource({ CLAUDE_CONFIG_DIR: fx.dir }),
    url: "http://127.0.0.1:9/x",
    intervalMs: 1000,
    log,
  });
  assert.equal(off.status().status, "disabled");
  assert.match(off.status().detail!, /no OAuth credential/);
  assert.equal(await off.pollNow(), null);
  await off.stop();

  let answer = 200;
  await using mock = await startMockAnthropic({
    handler: (req) =>
      req.path === "/api/oauth/usage"
        ? answer === 200
          ? Response.json({
            five_hour: { utilization: 37, resets_at: "2026-11-25T18:00:00Z" },
            seven_day: { utilization: 12.5, resets_at: "2026-11-30T00:00:00Z" },
            extra_usage: { is_enabled: false },
          })
          : new Response("nope", { status: answer })
        : undefined,
  });
  const poller = new UsagePoller({
    store: fx.store,
    credentials: new CredentialSource({ CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat-x" }),
    url: `${mock.url}/api/oauth/usage`,
    intervalMs: 60_000,
    firstDelayMs: 0,
    log,
  });
  assert.equal(poller.status().status, "pending");
  poller.start();
  await mock.waitForRequests(1, { path: "/api/oauth/usage" });
  await new Promise((r) => setTimeout(r, 50));
  const seen = mock.requests[0]!;
  assert.equal(seen.headers.authorization, "Bearer sk-ant-oat-x");
  assert.equal(seen.headers["anthropic-beta"], "oauth-2025-04-20");
  assert.match(seen.headers["user-agent"]!, /^claude-code\//);
  const ok = poller.status();
  assert.equal(ok.status, "ok");
  assert.deepEqual(ok.last!.windows.map((w) => [w.name, w.utilization]), [["five_hour", 0.37], [
    "seven_day",
    0.125,
  ]]);
  assert.ok(ok.next_at! > Date.now());
  answer = 429;
  await poller.pollNow();
  const failed = poller.status();
  assert.equal(failed.status, "error");
  assert.equal(failed.last!.http_status, 429);
  assert.equal(failed.last_ok!.windows.length, 2, "the last good reading stays available");
  await poller.stop();
  assert.deepEqual(parseUsageWindows("not json"), []);
});
