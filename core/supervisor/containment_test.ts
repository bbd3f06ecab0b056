/**
 * Agents are contained (issue 12, items 6–9): no real credential in a child's environment, the
 * working directory re-validated at spawn, the sandbox, and a cancel that leaves nothing behind.
 */
import assert from "node:assert/strict";
import { fakePrompt } from "../testing/mod.ts";
import { waitForStatus, withEngine } from "./testing_harness.ts";

const OAUTH = "sk-ant-oat01-REAL-subscription-token-0123456789";
const AUTH = "sk-ant-api03-REAL-auth-token-0123456789";

Deno.test("default config: a standard agent's environment holds no real credential, only its hop_ token", async () => {
  await withEngine({
    env: { CLAUDE_CODE_OAUTH_TOKEN: OAUTH, ANTHROPIC_AUTH_TOKEN: AUTH },
  }, async (h) => {
    const record = `${h.cwd}/env.json`;
    const a = h.engine.supervisor.create({
      prompt: fakePrompt({ auto: true, steps: [{ record }, { text: "ok" }] }),
      cwd: h.cwd,
    });
    assert.equal(a.kind, "standard");
    await waitForStatus(h, a.id, "awaiting_review");
    const rec = JSON.parse(await Deno.readTextFile(record)) as { env: Record<string, string> };
    const dump = JSON.stringify(rec.env);
    assert.ok(!dump.includes(OAUTH), "the OAuth token reached the agent");
    assert.ok(!dump.includes(AUTH), "the auth token reached the agent");
    assert.equal(rec.env.CLAUDE_CODE_OAUTH_TOKEN, undefined);
    assert.match(rec.env.ANTHROPIC_AUTH_TOKEN ?? "", /^hop_/);
    assert.equal(rec.env.ANTHROPIC_UNIX_SOCKET, h.engine.paths.proxySocket);
    assert.equal(h.engine.settings.proxy.scope, "all");
  });
});
