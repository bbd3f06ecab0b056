/**
 * Doctor checks against real files: modes and owners of the socket directory, database states
 * (missing, corrupt, healthy, newer schema), the daemon lock held by another process.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { resolvePaths } from "@hero/core/config";
import { openStore, SCHEMA_VERSION } from "@hero/core/store";
import { acquireDaemonLock } from "@hero/core/supervisor";
import { createContext, memoryOutput } from "../context.ts";
import {
  checkAuth,
  checkDatabase,
  checkDisk,
  checkLock,
  checkProxyScope,
  checkSandbox,
  checkSockets,
  checkSqlite,
  checkUser,
  renderChecks,
} from "./doctor.ts";

async function temp() {
  const dir = await Deno.makeTempDir({ prefix: "hero_doctor_" });
  const env = { HOME: dir, PATH_VAR: `${dir}/var`, PATH_SOCKET: `${dir}/sockets` };
  const ctx = createContext({ env, stdout: memoryOutput(), stderr: memoryOutput() });
  return {
    dir,
    ctx,
    paths: resolvePaths(env),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("doctor: database missing → warn; corrupt → fail; healthy → ok; newer schema → fail", async () => {
  await using t = await temp();
  assert.equal(checkDatabase(t.ctx)[0]!.status, "warn");

  Deno.mkdirSync(t.paths.stateDir, { recursive: true });
  Deno.writeTextFileSync(t.paths.dbPath, "this is not a database at all".repeat(200));
  const corrupt = checkDatabase(t.ctx)[0]!;
  assert.equal(corrupt.status, "fail");
  assert.match(corrupt.fix!, /backup/);

  Deno.removeSync(t.paths.dbPath);
  const store = await openStore(t.paths.dbPath);
  await store.close();
  const healthy = checkDatabase(t.ctx);
  assert.equal(healthy[0]!.status, "ok", healthy[0]!.message);
  assert.match(healthy[0]!.message, new RegExp(`schema ${SCHEMA_VERSION}, wal`));
  assert.equal(healthy[1]!.id, "wal");

  const db = new DatabaseSync(t.paths.dbPath);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const newer = checkDatabase(t.ctx)[0]!;
  assert.equal(newer.status, "fail");
  assert.match(newer.message, /newer than this build/);
});

Deno.test("doctor: socket dir with mode 0755 fails with a chmod fix; absent rpc.sock fails", async () => {
  await using t = await temp();
  Deno.mkdirSync(t.paths.socketDir, { recursive: true, mode: 0o755 });
  Deno.chmodSync(t.paths.socketDir, 0o755);
  const { checks, rpcAnswers } = await checkSockets(t.ctx, Deno.uid());
  const dir = checks.find((c) => c.id === "socket_dir")!;
  assert.equal(dir.status, "fail");
  assert.equal(dir.fix, `chmod 700 ${t.paths.socketDir}`);
  assert.equal(checks.find((c) => c.id === "rpc_socket")!.status, "fail");
  assert.equal(checks.find((c) => c.id === "admin_socket")!.status, "warn");
  assert.equal(rpcAnswers, false);

  Deno.chmodSync(t.paths.socketDir, 0o700);
  Deno.writeTextFileSync(t.paths.rpcSocket, "");
  const again = await checkSockets(t.ctx, Deno.uid());
  assert.equal(again.checks.find((c) => c.id === "socket_dir")!.status, "ok");
  assert.match(again.checks.find((c) => c.id === "rpc_socket")!.message, /is not a socket/);
});

Deno.test("doctor: a stale rpc.sock (nobody listening) fails the /health check", async () => {
  await using t = await temp();
  Deno.mkdirSync(t.paths.socketDir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(t.paths.socketDir, 0o700);
  // A daemon killed with SIGKILL leaves its socket file behind.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.listen({ transport: "unix", path: ${
        JSON.stringify(t.paths.rpcSocket)
      } }); console.log("READY"); setInterval(() => {}, 1000);`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("READY")) out += (await reader.read()).value ?? "";
  reader.releaseLock();
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel().catch(() => {});
  assert.ok(Deno.lstatSync(t.paths.rpcSocket).isSocket);
  Deno.chmodSync(t.paths.rpcSocket, 0o600);
  const { checks } = await checkSockets(t.ctx, Deno.uid());
  const rpc = checks.find((c) => c.id === "rpc_socket")!;
  assert.equal(rpc.status, "fail");
  assert.match(rpc.message, /does not answer \/health/);
});

Deno.test("doctor: lock free → ok; held by another daemon with no server → fail naming its pid", async () => {
  await using t = await temp();
  assert.equal(checkLock(t.ctx, null).status, "ok");
  Deno.mkdirSync(t.paths.stateDir, { recursive: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { acquireDaemonLock } from "${
        new URL("../../core/supervisor/mod.ts", import.meta.url).href
      }"; acquireDaemonLock(${
        JSON.stringify(t.paths.lockPath)
      }); console.log("LOCKED"); await new Promise((r) => setTimeout(r, 30000));`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("LOCKED")) out += (await reader.read()).value ?? "";
    const held = checkLock(t.ctx, null);
    assert.equal(held.status, "fail");
    assert.match(held.message, new RegExp(`pid ${child.pid} holds the database lock`));
    assert.equal(checkLock(t.ctx, child.pid).status, "ok");
    assert.match(
      checkLock(t.ctx, 424242).message,
      /but the server answering on rpc.sock is pid 424242/,
    );
    reader.releaseLock();
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
  // Released by the kernel when the holder died; the probe takes and releases it.
  assert.equal(checkLock(t.ctx, null).status, "ok");
  acquireDaemonLock(t.paths.lockPath).release();
});

Deno.test("doctor: root needs a non-root user or IS_SANDBOX=1", async () => {
  await using t = await temp();
  assert.equal(checkUser(t.ctx, 1000, 1000).status, "ok");
  const root = checkUser(t.ctx, 0, null);
  assert.equal(root.status, "fail");
  assert.match(root.message, /refuses --dangerously-skip-permissions as root/);
  assert.equal(checkUser(t.ctx, 1000, 0).status, "fail", "a root server counts too");
  const sandbox = createContext({
    env: { ...t.ctx.env, IS_SANDBOX: "1" },
    stdout: memoryOutput(),
    stderr: memoryOutput(),
  });
  assert.equal(checkUser(sandbox, 0, 0).status, "warn");
});

Deno.test("doctor: auth status exit code decides; an API key overriding the login warns", () => {
  const none = checkAuth({
    loggedIn: false,
    method: "none",
    apiKeySource: null,
    subscription: null,
    error: null,
  });
  assert.equal(none[0]!.status, "fail");
  assert.equal(
    none[0]!.fix,
    "run `npx -y deno@2.9.6 task cli login` (or `npx -y deno@2.9.6 task cli login --api-key`)",
  );
  assert.equal(none[1]!.status, "ok");
  const key = checkAuth({
    loggedIn: true,
    method: "api_key",
    apiKeySource: "ANTHROPIC_API_KEY",
    subscription: null,
    error: null,
  });
  assert.equal(key[0]!.status, "ok");
  assert.equal(key[1]!.status, "warn");
  assert.match(key[1]!.message, /instead of a subscription login/);
});

Deno.test("doctor: SQLite gate, disk space, and plain rendering without colour", async () => {
  await using t = await temp();
  assert.equal(checkSqlite().status, "ok");
  assert.equal(checkDisk(t.ctx).status, "warn", "the state dir does not exist yet");
  Deno.mkdirSync(t.paths.stateDir, { recursive: true });
  assert.ok(["ok", "warn"].includes(checkDisk(t.ctx).status), "the state dir now exists");
  const text = renderChecks([
    { id: "db", status: "ok", message: "fine" },
    { id: "lock", status: "fail", message: "held", fix: "kill 1" },
  ], t.ctx);
  assert.equal(text, "✓ db    fine\n✗ lock  held → fix: kill 1\n");
});

Deno.test("doctor: a proxy scope other than all warns that agents see the real credential", () => {
  assert.equal(checkProxyScope("all").status, "ok");
  for (const scope of ["shadows_only", "off"] as const) {
    const check = checkProxyScope(scope);
    assert.equal(check.status, "warn");
    assert.match(check.message, /real credential/);
  }
});

Deno.test("doctor: the sandbox line says which mode is in force and why", () => {
  const auto = { requested: "auto", bin: "bwrap" } as const;
  const on = checkSandbox(
    { mode: "bwrap", reason: "bwrap works here (default when available)" },
    auto,
  );
  assert.equal(on.status, "ok");
  assert.match(on.message, /bubblewrap: bwrap works here/);
  const fallback = checkSandbox({ mode: "off", reason: "bwrap is not installed" }, auto);
  assert.equal(fallback.status, "warn");
  assert.match(fallback.message, /WITHOUT a sandbox \(bwrap is not installed\)/);
  assert.match(fallback.fix!, /apt-get install bubblewrap/);
  const chosen = checkSandbox({ mode: "off", reason: "HERO_ORCHESTRATOR_SANDBOX=off" }, {
    ...auto,
    requested: "off",
  });
  assert.equal(chosen.fix, "unset HERO_ORCHESTRATOR_SANDBOX");
  assert.equal(checkSandbox(null, { ...auto, requested: "off" }).status, "warn");
  assert.equal(checkSandbox(null, auto).status, "ok");
});
