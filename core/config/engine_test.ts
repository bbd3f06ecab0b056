import assert from "node:assert/strict";
import { resolveEngineSettings } from "./engine.ts";
import { resolvePaths } from "./paths.ts";

Deno.test("proxy, shadow and usage settings: defaults and validation", () => {
  const d = resolveEngineSettings({});
  assert.deepEqual(
    [
      d.proxy.scope,
      d.proxy.upstreamUrl,
      d.proxy.logErrors,
      d.usage.pollUrl,
      d.usage.pollIntervalMs,
    ],
    [
      "all",
      "https://api.anthropic.com",
      false,
      "https://api.anthropic.com/api/oauth/usage",
      3_600_000,
    ],
  );
  assert.deepEqual(d.shadows.enabled, ["naming", "commit"]);
  // The proxy follows a gateway or local API configured for claude; the explicit setting wins.
  const gateway = resolveEngineSettings({ ANTHROPIC_BASE_URL: "http://127.0.0.1:8123/gw/" });
  assert.equal(gateway.proxy.upstreamUrl, "http://127.0.0.1:8123/gw");
  assert.equal(gateway.usage.pollUrl, "http://127.0.0.1:8123/gw/api/oauth/usage");
  assert.equal(
    resolveEngineSettings({
      ANTHROPIC_BASE_URL: "http://127.0.0.1:8123",
      HERO_ORCHESTRATOR_UPSTREAM_URL: "http://127.0.0.1:9000",
    }).proxy.upstreamUrl,
    "http://127.0.0.1:9000",
  );
  assert.throws(
    () => resolveEngineSettings({ ANTHROPIC_BASE_URL: "ftp://x" }),
    /ANTHROPIC_BASE_URL/,
  );
  assert.equal(d.shadows.model, "claude-haiku-4-5");
  assert.ok(d.proxy.tokenTtlMs <= 24 * 3_600_000);
  const s = resolveEngineSettings({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
    HERO_ORCHESTRATOR_UPSTREAM_URL: "http://127.0.0.1:9000/prefix/",
    HERO_ORCHESTRATOR_PROXY_LOG_ERRORS: "1",
    HERO_ORCHESTRATOR_SHADOWS: "commit",
    HERO_ORCHESTRATOR_USAGE_POLL_MS: "0",
  });
  assert.equal(s.proxy.upstreamUrl, "http://127.0.0.1:9000/prefix");
  assert.equal(s.usage.pollUrl, "http://127.0.0.1:9000/prefix/api/oauth/usage");
  assert.deepEqual(s.shadows.enabled, ["commit"]);
  assert.equal(s.usage.pollIntervalMs, 0);
  assert.deepEqual(
    resolveEngineSettings({ HERO_ORCHESTRATOR_SHADOWS: "none" }).shadows.enabled,
    [],
  );
  for (
    const [name, value] of [
      ["HERO_ORCHESTRATOR_PROXY_SCOPE", "some"],
      ["HERO_ORCHESTRATOR_UPSTREAM_URL", "ftp://x"],
      ["HERO_ORCHESTRATOR_UPSTREAM_URL", "https://u:p@x"],
      ["HERO_ORCHESTRATOR_UPSTREAM_URL", "https://x/?a=1"],
      ["HERO_ORCHESTRATOR_SHADOWS", "naming,poetry"],
      ["HERO_ORCHESTRATOR_USAGE_POLL_MS", "-1"],
    ]
  ) {
    assert.throws(() => resolveEngineSettings({ [name!]: value }), RangeError, `${name}=${value}`);
  }
  assert.equal(
    resolvePaths({ PATH_SOCKET: "/s", PATH_VAR: "/v" }).proxySocket,
    "/s/hero_orchestrator/proxy.sock",
  );
});
