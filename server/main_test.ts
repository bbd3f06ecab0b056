/**
 * The daemon as a child process (`deno run -A server/main.ts`): socket directory and file modes
 * under umask 000, stale / live / planted socket paths, and graceful SIGTERM.
 */
import assert from "node:assert/strict";
import { resolvePaths } from "@hero/core/config";
import { openStore } from "@hero/core/store";
import { fakePrompt } from "@hero/core/testing";
import { createClient } from "@hero/sdk";
import {
  DENO_DIR,
  MAIN_TS,
  REPO_ROOT,
  serverRunArgs,
  spawnDaemon,
  tempEnv,
  waitFor,
} from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

function modeOf(path: string): number {
  return Deno.lstatSync(path).mode! & 0o777;
}

/** Runs main.ts expecting it to refuse to start. */
async function expectRefusal(env: Record<string, string>, pattern: RegExp): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN_TS],
    env: { ...env, DENO_DIR },
    clearEnv: true,
    cwd: REPO_ROOT,
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, pattern);
}

Deno.test("main: socket dir 0700 and socket 0600 under umask 000; state private too", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  await using daemon = await spawnDaemon(t.env, { umask: "000" });
  assert.equal(modeOf(paths.socketDir), 0o700);
  assert.equal(modeOf(paths.rpcSocket), 0o600);
  assert.ok(Deno.lstatSync(paths.rpcSocket).isSocket);
  assert.equal(modeOf(paths.stateDir), 0o700);
  assert.equal(modeOf(paths.dbPath) & 0o077, 0, "the database is not readable by others");
  const status = await daemon.stop();
  assert.equal(status.code, 0);
  assert.throws(
    () => Deno.lstatSync(paths.rpcSocket),
    Deno.errors.NotFound,
    "socket removed at exit",
  );
});

Deno.test("main: a socket directory with another mode is refused, not changed", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  Deno.mkdirSync(paths.socketDir, { recursive: true });
  Deno.chmodSync(paths.socketDir, 0o755);
  await expectRefusal(t.env, /mode is 0755, expected 0700/);
  assert.equal(modeOf(paths.socketDir), 0o755);
  assert.throws(() => Deno.lstatSync(paths.rpcSocket), Deno.errors.NotFound);
});

Deno.test("main: a stale socket is replaced; a live one is refused", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  Deno.mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(paths.socketDir, 0o700);
  // A listener killed with SIGKILL leaves its socket file behind: the stale case.
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const l = Deno.listen({ transport: "unix", path: ${
        JSON.stringify(paths.rpcSocket)
      } }); console.log("up"); for await (const c of l) c.close();`,
    ],
    env: { DENO_DIR },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = holder.stdout.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), "up\n");
  reader.releaseLock();

  // While it listens, the daemon refuses to take the path over.
  await expectRefusal(t.env, /another daemon is listening/);
  assert.ok(Deno.lstatSync(paths.rpcSocket).isSocket);

  holder.kill("SIGKILL");
  await holder.status;
  await holder.stdout.cancel().catch(() => {});
  assert.ok(Deno.lstatSync(paths.rpcSocket).isSocket, "the stale socket file is still there");

  await using daemon = await spawnDaemon(t.env);
  const t2 = unixFetch(paths.rpcSocket);
  try {
    const health = await createClient({ fetch: t2.fetch }).system.health();
    assert.equal(health.status, "ok");
  } finally {
    t2.close();
  }
  assert.equal((await daemon.stop()).code, 0);
});

Deno.test("main: a regular file at the socket path is refused and left alone", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  Deno.mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(paths.socketDir, 0o700);
  Deno.writeTextFileSync(paths.rpcSocket, "precious");
  await expectRefusal(t.env, /regular file is there/);
  assert.equal(Deno.readTextFileSync(paths.rpcSocket), "precious");
});

Deno.test("main: a symlink at the socket path is refused; its target is unchanged", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  Deno.mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(paths.socketDir, 0o700);
  const target = `${t.dir}/bashrc`;
  Deno.writeTextFileSync(target, "export SECRET=1\n");
  Deno.chmodSync(target, 0o644);
  const before = Deno.statSync(target);
  Deno.symlinkSync(target, paths.rpcSocket);
  // Also a dangling symlink (where a bind would create the target).
  await expectRefusal(t.env, /a symlink is there/);
  assert.ok(Deno.lstatSync(paths.rpcSocket).isSymlink);
  assert.equal(Deno.readLinkSync(paths.rpcSocket), target);
  const after = Deno.statSync(target);
  assert.equal(Deno.readTextFileSync(target), "export SECRET=1\n");
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
  assert.equal(after.mode, before.mode);

  Deno.removeSync(paths.rpcSocket);
  const dangling = `${t.dir}/nowhere.sock`;
  Deno.symlinkSync(dangling, paths.rpcSocket);
  await expectRefusal(t.env, /a symlink is there/);
  assert.throws(
    () => Deno.lstatSync(dangling),
    Deno.errors.NotFound,
    "nothing created through the link",
  );
});

Deno.test("main: SIGTERM stops running agents (daemon_shutdown) and exits 0 within 15 s", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  const daemon = await spawnDaemon(t.env);
  const transport = unixFetch(paths.rpcSocket);
  let id: string;
  try {
    const client = createClient({ fetch: transport.fetch });
    const agent = await client.agent.create({
      prompt: fakePrompt({ steps: [{ init: true }, { hang: true }] }),
      cwd: t.work,
    });
    id = agent.id;
    await waitFor(
      "running",
      async () => (await client.agent.get({ id: agent.id })).status === "running",
    );
  } finally {
    transport.close();
  }
  const started = Date.now();
  const status = await daemon.stop("SIGTERM");
  const took = Date.now() - started;
  assert.equal(status.code, 0, daemon.stderr());
  assert.ok(took < 15_000, `stopped in ${took} ms`);
  const store = openStore(paths.dbPath);
  try {
    const agent = store.getAgent(id)!;
    assert.equal(agent.status, "failed");
    assert.equal(agent.error_code, "daemon_shutdown");
    assert.equal(store.integrityCheck(), "ok");
  } finally {
    store.close();
  }
  // The log is JSON lines.
  for (const line of daemon.stderr().trim().split("\n")) JSON.parse(line);
});

/** Runs the production daemon (`-P=server` + computed flags) expecting a refusal; returns stderr. */
async function productionRefusal(env: Record<string, string>, args: string[] = []) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...serverRunArgs(env), ...args],
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const asRoot = { ignore: Deno.uid() !== 0 };

Deno.test({
  name: "main: as root without IS_SANDBOX or --allow-root it refuses to start, naming both fixes",
  ...asRoot,
  async fn() {
    await using t = await tempEnv();
    const env = { ...t.env };
    delete env.IS_SANDBOX;
    const paths = resolvePaths(env);
    const { code, stderr } = await productionRefusal(env);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /Cannot start as root/);
    assert.match(stderr, /IS_SANDBOX=1/);
    assert.match(stderr, /--allow-root/);
    assert.match(stderr, /non-root user/);
    assert.throws(() => Deno.lstatSync(paths.socketDir), Deno.errors.NotFound, "nothing created");
    assert.throws(() => Deno.lstatSync(paths.dbPath), Deno.errors.NotFound, "no database");
  },
});

Deno.test({
  name: "main: as root, --allow-root (no IS_SANDBOX) starts and its agents run",
  ...asRoot,
  async fn() {
    await using t = await tempEnv();
    const env = { ...t.env };
    delete env.IS_SANDBOX;
    await using daemon = await spawnDaemon(env, { args: ["--allow-root"] });
    const transport = unixFetch(resolvePaths(env).rpcSocket);
    try {
      const client = createClient({ fetch: transport.fetch });
      assert.equal((await client.system.health()).status, "ok");
      // The fake claude, like the real one, refuses bypass mode as root without IS_SANDBOX=1.
      const agent = await client.agent.create({ prompt: "as root", cwd: t.work });
      const done = await waitFor("review", async () => {
        const a = await client.agent.get({ id: agent.id });
        return ["awaiting_review", "failed"].includes(a.status) ? a : undefined;
      }, 60_000);
      assert.equal(done.status, "awaiting_review", JSON.stringify(done));
    } finally {
      transport.close();
    }
    assert.equal((await daemon.stop()).code, 0, daemon.stderr());
  },
});

Deno.test({
  name: "main: as root with IS_SANDBOX=1 it starts",
  ...asRoot,
  async fn() {
    await using t = await tempEnv();
    assert.equal(t.env.IS_SANDBOX, "1");
    await using daemon = await spawnDaemon(t.env);
    assert.equal((await daemon.stop()).code, 0, daemon.stderr());
  },
});

Deno.test("main: a zero-length db.sqlite is refused (path and fix named, exit 1) and left untouched", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  Deno.mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  Deno.writeFileSync(paths.dbPath, new Uint8Array(0), { mode: 0o600 });
  const before = Deno.statSync(paths.dbPath);
  const { code, stderr } = await productionRefusal(t.env);
  assert.equal(code, 1, stderr);
  assert.ok(stderr.includes(paths.dbPath), stderr);
  assert.match(stderr, /empty \(0 bytes\)/);
  assert.match(stderr, /restore the newest backup/);
  const after = Deno.statSync(paths.dbPath);
  assert.equal(after.size, 0, "still zero bytes");
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
  assert.throws(() => Deno.lstatSync(paths.rpcSocket), Deno.errors.NotFound, "never listened");
});
