/**
 * Agents are contained (issue 12, items 6–9): no real credential in a child's environment, the
 * working directory re-validated at spawn, the sandbox, and a cancel that leaves nothing behind.
 */
import assert from "node:assert/strict";
import { fakePrompt, type FakeStep } from "../testing/mod.ts";
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The agent's Bash tool: a shell in the agent's cwd, run to the end. */
const bash = (script: string): FakeStep => ({ spawnWait: script });

Deno.test("a queued agent whose cwd was swapped for a symlink fails with invalid_cwd and never runs there", async () => {
  const outside = await Deno.makeTempDir({ prefix: "outside_" });
  try {
    await withEngine({ tune: (s) => (s.supervisor.maxConcurrent = 1) }, async (h) => {
      const sub = `${h.cwd}/sub`;
      await Deno.mkdir(sub);
      const s = h.engine.supervisor;
      const blocker = s.create({
        prompt: fakePrompt([{ init: true }, { hang: true }]),
        cwd: h.cwd,
      });
      await waitForStatus(h, blocker.id, "running");
      const queued = s.create({
        prompt: fakePrompt({ auto: true, steps: [bash("pwd -P > where.txt")] }),
        cwd: sub,
      });
      assert.equal(h.engine.store.getAgent(queued.id)!.status, "queued");
      await Deno.remove(sub);
      await Deno.symlink(outside, sub);
      await s.cancel(blocker.id);
      const failed = await waitForStatus(h, queued.id, "failed", 30_000);
      assert.equal(failed.error_code, "invalid_cwd");
      assert.match(failed.error_message ?? "", /now resolves to/);
      assert.equal(failed.pid, null, "a process was spawned");
      assert.ok(!(await exists(`${outside}/where.txt`)), "the agent ran outside its directory");
    });
  } finally {
    await Deno.remove(outside, { recursive: true }).catch(() => {});
  }
});
