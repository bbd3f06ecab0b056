/**
 * Agents are contained (issue 12, items 6–9): no real credential in a child's environment, the
 * working directory re-validated at spawn, the sandbox, and a cancel that leaves nothing behind.
 */
import assert from "node:assert/strict";
import { fakePrompt, type FakeStep } from "../testing/mod.ts";
import { listProcesses } from "./process_table.ts";
import { createProcessControl } from "./process_control.ts";
import { type Harness, waitFor, waitForStatus, withEngine } from "../engine/testing_harness.ts";

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

/**
 * State, sockets and a fake HOME outside /tmp, so the sandbox's private /tmp cannot hide them by
 * accident: what hides them is the sandbox's own mounts.
 */
async function outsideTmp(): Promise<
  { root: string; env: Record<string, string> } & AsyncDisposable
> {
  const root = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "hero_contain_" });
  return {
    root,
    env: { PATH_VAR: `${root}/var`, PATH_SOCKET: `${root}/sockets`, HOME: `${root}/home` },
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

/** The agent's Bash tool: a shell in the agent's cwd, run to the end. */
const bash = (script: string): FakeStep => ({ spawnWait: script });

Deno.test("sandbox: an agent's tools cannot read the DB, see the sockets or read ~/.ssh, and can write in their cwd", async () => {
  await using out = await outsideTmp();
  await Deno.mkdir(`${out.root}/home/.ssh`, { recursive: true });
  await Deno.writeTextFile(`${out.root}/home/.ssh/id_test`, "SECRET-KEY-MATERIAL\n");
  // The daemon's own claude login: agents on the proxy (the default) never see it.
  await Deno.mkdir(`${out.root}/home/.claude`);
  await Deno.writeTextFile(`${out.root}/home/.claude/.credentials.json`, '{"SECRET":1}');
  await withEngine({ env: { ...out.env, HERO_ORCHESTRATOR_SANDBOX: "bwrap" } }, async (h) => {
    assert.equal(h.engine.sandbox.mode, "bwrap");
    const p = h.engine.paths;
    assert.ok(Deno.statSync(p.dbPath).isFile);
    // The server's socket next to the proxy's (the engine alone has only proxy.sock).
    using _rpc = Deno.listen({ transport: "unix", path: p.rpcSocket });
    const probe = [
      `cat '${p.dbPath}' >/dev/null 2>&1 && echo db:readable || echo db:denied`,
      `[ -e '${p.proxySocket}' ] && echo proxy:visible || echo proxy:hidden`,
      `ls -A '${p.socketDir}' | tr '\\n' ' ' | sed 's/^/sockets:/'; echo`,
      `cat '${out.root}/home/.ssh/id_test' 2>/dev/null | grep -q SECRET && echo key:readable || echo key:denied`,
      `cat '${out.root}/home/.claude/.credentials.json' 2>/dev/null | grep -q SECRET && echo login:readable || echo login:denied`,
      `touch '${p.stateDir}/planted' 2>/dev/null; echo planted`,
      `echo "marker:$HERO_ORCHESTRATOR_AGENT"`,
    ].join("; ");
    const a = h.engine.supervisor.create({
      prompt: fakePrompt({
        auto: true,
        steps: [bash(`{ ${probe}; } > probe.txt`), { text: "ok" }],
      }),
      cwd: h.cwd,
    });
    await waitForStatus(h, a.id, "awaiting_review", 30_000);
    // Written from inside: the cwd is writable.
    const lines = (await Deno.readTextFile(`${h.cwd}/probe.txt`)).trim().split("\n");
    assert.ok(lines.includes("db:denied"), lines.join(" | "));
    assert.ok(lines.includes("key:denied"), lines.join(" | "));
    assert.ok(lines.includes("login:denied"), lines.join(" | "));
    // The agent's own proxy socket is bound in; nothing else of the socket dir is there.
    assert.ok(lines.includes("proxy:visible"), lines.join(" | "));
    assert.deepEqual(lines.find((l) => l.startsWith("sockets:"))?.trim(), "sockets:proxy.sock");
    assert.ok(!(await exists(`${p.stateDir}/planted`)), "the agent wrote into the state dir");
    assert.ok(lines.some((l) => l.startsWith(`marker:${a.id}.`)), "the marker reached the tool");
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

/**
 * Live `sleep 1234` processes started in `cwd` (a fresh temp dir): only this test's own escape,
 * never a look-alike of another test or user.
 */
async function escapedSleeps(cwd: string): Promise<Set<number>> {
  const table = await listProcesses();
  return new Set(
    table.filter((p) => {
      if (p.stat.startsWith("Z") || !/^sleep 1234( |$)/.test(p.argsAndEnv)) return false;
      try {
        return Deno.readLinkSync(`/proc/${p.pid}/cwd`) === cwd;
      } catch {
        return false;
      }
    }).map((p) => p.pid),
  );
}

const ESCAPE = 'env -i setsid sh -c "sleep 1234 &"';

/** Starts an agent that double-forks `sleep 1234` with a cleared environment, then cancels it. */
async function cancelEscapedAgent(h: Harness): Promise<{ escaped: number; alive: boolean }> {
  const cwd = Deno.realPathSync(h.cwd);
  const a = h.engine.supervisor.create({
    prompt: fakePrompt([{ init: true }, { spawn: ESCAPE }, { text: "escaped" }, { hang: true }]),
    cwd: h.cwd,
  });
  const escaped = await waitFor("the escaped sleep", async () => {
    const [pid] = await escapedSleeps(cwd);
    return pid;
  }, 30_000);
  await waitFor("the agent's text", () => h.engine.store.getAgent(a.id)!.last_seq >= 2, 30_000);
  const cancelled = await h.engine.supervisor.cancel(a.id);
  assert.equal(cancelled.status, "cancelled");
  // Checked the moment `cancelled` is reported: nothing may be left by then.
  return { escaped, alive: (await escapedSleeps(cwd)).has(escaped) };
}

Deno.test("cancel with the sandbox: a double-forked grandchild with a cleared environment dies with the agent", async () => {
  await withEngine({ env: { HERO_ORCHESTRATOR_SANDBOX: "bwrap" } }, async (h) => {
    assert.equal(h.engine.sandbox.mode, "bwrap");
    const { escaped, alive } = await cancelEscapedAgent(h);
    if (alive) await createProcessControl().signal("KILL", { pids: [escaped] });
    assert.equal(alive, false, `sleep 1234 (pid ${escaped}) survived the cancel`);
  });
});

Deno.test("cancel without the sandbox: the marker cannot follow a process that cleared its environment (known limit)", async () => {
  await withEngine({ env: { HERO_ORCHESTRATOR_SANDBOX: "off" } }, async (h) => {
    assert.equal(h.engine.sandbox.mode, "off");
    const { escaped, alive } = await cancelEscapedAgent(h);
    await createProcessControl().signal("KILL", { pids: [escaped] });
    // Documented in docs/operations.md: only the PID namespace of the sandbox catches this one.
    assert.equal(alive, true, "off mode unexpectedly killed the escaped process");
  });
});

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

Deno.test("a follow-up whose cwd was swapped for a symlink fails with invalid_cwd", async () => {
  const outside = await Deno.makeTempDir({ prefix: "outside_" });
  try {
    await withEngine({}, async (h) => {
      const sub = `${h.cwd}/sub`;
      await Deno.mkdir(sub);
      const s = h.engine.supervisor;
      const a = s.create({ prompt: "first turn", cwd: sub });
      await waitForStatus(h, a.id, "awaiting_review");
      await s.settled(a.id);
      await Deno.remove(sub);
      await Deno.symlink(outside, sub);
      await s.followUp(a.id, fakePrompt({ auto: true, steps: [bash("pwd -P > where.txt")] }));
      const failed = await waitForStatus(h, a.id, "failed", 30_000);
      assert.equal(failed.error_code, "invalid_cwd");
      assert.match(failed.error_message ?? "", /now resolves to/);
      assert.ok(!(await exists(`${outside}/where.txt`)), "the follow-up ran outside its directory");
    });
  } finally {
    await Deno.remove(outside, { recursive: true }).catch(() => {});
  }
});

Deno.test("without a working bwrap the engine runs unsandboxed with a warning, unless bwrap is required", async () => {
  const logs: Array<{ level: string; message: string; reason?: unknown }> = [];
  await withEngine({
    env: { HERO_ORCHESTRATOR_BWRAP_BIN: "/nonexistent/bwrap" },
    log: (level, message, fields) => logs.push({ level, message, ...fields }),
  }, async (h) => {
    assert.equal(h.engine.sandbox.mode, "off");
    assert.match(h.engine.sandbox.reason, /not installed/);
    const warning = logs.find((l) => l.level === "warn" && /WITHOUT a sandbox/.test(l.message));
    assert.ok(warning, JSON.stringify(logs));
    // Agents still run.
    const a = h.engine.supervisor.create({ prompt: "still works", cwd: h.cwd });
    assert.equal((await waitForStatus(h, a.id, "awaiting_review")).result, "still works");
  });
  await assert.rejects(
    withEngine({
      env: {
        HERO_ORCHESTRATOR_SANDBOX: "bwrap",
        HERO_ORCHESTRATOR_BWRAP_BIN: "/nonexistent/bwrap",
      },
    }, () => Promise.resolve()),
    /Cannot sandbox agents \(HERO_ORCHESTRATOR_SANDBOX=bwrap\)/,
  );
});
