/**
 * The claude readiness in `system.health`: computed at start against the real environment the
 * daemon gets (fake or missing binary, credential kinds, root, a loopback mock as the upstream),
 * and again on `refresh`.
 */
import assert from "node:assert/strict";
import { startMockAnthropic } from "@hero/core/testing";
import { TESTED_CLAUDE_VERSION } from "@hero/core/config";
import { resolveEngineSettings } from "@hero/core/config";
import { checkReadiness, readinessLines } from "./readiness.ts";
import { startProduction, tempEnv } from "./testing/daemon.ts";

Deno.test("readiness: no credential is reported with its fix; the fake binary is the tested version", async () => {
  await using t = await tempEnv();
  await using d = await startProduction(t.env);
  const health = await d.client.system.health();
  const r = health.claude!;
  assert.equal(r.ok, false);
  assert.equal(r.binary.status, "ok", r.binary.detail);
  assert.equal(r.binary.version, TESTED_CLAUDE_VERSION);
  assert.equal(r.credential.status, "fail");
  assert.equal(r.credential.kind, "none");
  assert.match(
    r.credential.fix!,
    /`npx -y deno@2\.9\.6 task cli login` \(a subscription\), or `npx -y deno@2\.9\.6 task cli login --api-key`/,
  );
  assert.equal(r.root.status, "ok", r.root.detail);
  assert.equal(r.upstream.status, "unchecked", "the default upstream is not contacted in tests");
  assert.equal(r.upstream.url, "https://api.anthropic.com");
  // A login appearing later is seen on refresh, and GET /health carries the last result.
  await Deno.mkdir(`${t.dir}/.claude`);
  await Deno.writeTextFile(
    `${t.dir}/.claude/.credentials.json`,
    JSON.stringify({
      claudeAiOauth: { accessToken: "sk-ant-oat01-x", expiresAt: Date.now() + 3_600_000 },
    }),
  );
  const again = (await d.client.system.health({ refresh: true })).claude!;
  assert.equal(again.credential.kind, "subscription");
  assert.equal(again.credential.status, "ok");
  assert.ok(!JSON.stringify(again).includes("sk-ant-oat01-x"), "the token is never reported");
  assert.equal(again.ok, true);
  const viaGet = await (await d.fetch("http://localhost/health")).json();
  assert.equal(viaGet.claude.credential.kind, "subscription");
  // The test runner installs exactly this version (one constant, imported by both).
  assert.match(
    await Deno.readTextFile(new URL("../tools/run_tests.ts", import.meta.url)),
    /TESTED_CLAUDE_VERSION/,
  );
  assert.equal(again.binary.tested_version, TESTED_CLAUDE_VERSION);
});

Deno.test("readiness: a local API in ANTHROPIC_BASE_URL is checked and an OAuth token is named", async () => {
  await using mock = await startMockAnthropic();
  await using t = await tempEnv({
    ANTHROPIC_BASE_URL: mock.url,
    CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-test",
  });
  await using d = await startProduction(t.env);
  const r = (await d.client.system.health()).claude!;
  assert.equal(r.upstream.url, mock.url);
  assert.equal(r.upstream.status, "ok", r.upstream.detail);
  assert.equal(r.credential.kind, "oauth_token");
  assert.equal(r.ok, true);
});

Deno.test("readiness: a missing binary, an unreachable upstream and an auth token, each with a fix", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (l.addr as Deno.NetAddr).port;
  l.close();
  const env = {
    HOME: "/nonexistent-home",
    PATH: "/usr/bin:/bin",
    IS_SANDBOX: "1",
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${closedPort}`,
    ANTHROPIC_AUTH_TOKEN: "gateway",
    HERO_ORCHESTRATOR_CLAUDE_BIN: "/nonexistent/claude",
  };
  const r = await checkReadiness({ env, settings: resolveEngineSettings(env), timeoutMs: 5_000 });
  assert.equal(r.ok, false);
  assert.equal(r.binary.status, "fail");
  assert.match(r.binary.detail, /was not found/);
  assert.match(r.binary.fix!, /HERO_ORCHESTRATOR_CLAUDE_BIN/);
  assert.equal(r.upstream.status, "fail");
  assert.match(r.upstream.detail, /Cannot reach 127\.0\.0\.1/);
  assert.ok(r.upstream.fix);
  assert.equal(r.credential.kind, "auth_token");
  const text = readinessLines(r).join("\n");
  assert.match(text, /^✗ claude/m);
  assert.match(text, /fix: Install it/);
});

Deno.test("readiness: root without IS_SANDBOX fails with the fix (when the tests run as root)", async () => {
  const env = {
    HOME: "/nonexistent-home",
    PATH: "/usr/bin:/bin",
    HERO_ORCHESTRATOR_CHECK_UPSTREAM: "0",
  };
  const r = await checkReadiness({ env, settings: resolveEngineSettings(env), timeoutMs: 5_000 });
  if (Deno.uid() === 0) {
    assert.equal(r.root.status, "fail");
    assert.match(r.root.fix!, /IS_SANDBOX=1/);
    const sandboxed = await checkReadiness({
      env: { ...env, IS_SANDBOX: "1" },
      settings: resolveEngineSettings(env),
    });
    assert.equal(sandboxed.root.status, "ok");
  } else {
    assert.equal(r.root.status, "ok");
  }
});

Deno.test("readiness: a key stored with login --api-key is the credential; a refused file says why", async () => {
  await using t = await tempEnv();
  const keyFile = `${t.dir}/var/hero_orchestrator/api_key`;
  const { storeApiKey } = await import("@hero/core/proxy");
  storeApiKey(keyFile, "sk-ant-api03-readiness-key");
  const r = await checkReadiness({
    env: { ...t.env, HERO_ORCHESTRATOR_CHECK_UPSTREAM: "0" },
    settings: resolveEngineSettings(t.env),
    apiKeyFile: keyFile,
  });
  assert.equal(r.credential.kind, "api_key");
  assert.equal(r.credential.status, "ok");
  assert.ok(!JSON.stringify(r).includes("sk-ant-api03-readiness-key"));
  Deno.chmodSync(keyFile, 0o644);
  const refused = await checkReadiness({
    env: { ...t.env, HERO_ORCHESTRATOR_CHECK_UPSTREAM: "0" },
    settings: resolveEngineSettings(t.env),
    apiKeyFile: keyFile,
  });
  assert.equal(refused.credential.status, "fail");
  assert.match(refused.credential.detail, /readable by others \(mode 0644\)/);
  assert.match(refused.credential.fix!, /login --api-key/);
});
