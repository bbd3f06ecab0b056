/**
 * The admin binary as a child process with the production permission set (`-P=admin`):
 * `--info` before side effects, socket directory and file modes, stale / live / planted socket
 * paths, the `--listen` token, argument errors and graceful SIGTERM.
 */
import assert from "node:assert/strict";
import { resolveAdminPaths } from "./server/paths.ts";
import { ensureRepoDist, spawnAdmin, tempEnv, waitFor, waitListening } from "./testing/harness.ts";

function modeOf(path: string): number {
  return Deno.lstatSync(path).mode! & 0o777;
}

function unixGet(path: string, url: string): Promise<Response> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
  return fetch(url, { client }).finally(() => client.close());
}

Deno.test("admin main: --info / --info --json print the manifest with no side effect", async () => {
  await using t = await tempEnv();
  const toml = spawnAdmin(t.env, ["--info"]);
  const s1 = await toml.status;
  assert.equal(s1.code, 0, toml.stderr());
  assert.match(toml.stdout(), /^name = "hero_orchestrator"$/m);
  assert.match(toml.stdout(), /^binary = "hero_orchestrator_admin"$/m);
  assert.match(toml.stdout(), /^kind = "admin"$/m);
  assert.ok(toml.stdout().includes(`path = "${t.env.PATH_SOCKET}/hero_orchestrator/admin.sock"`));
  const json = spawnAdmin(t.env, ["--info", "--json"]);
  assert.equal((await json.status).code, 0);
  const m = JSON.parse(json.stdout());
  assert.equal(m.sockets[0].protocol, "ui");
  assert.equal(m.health, "admin.sock:/health");
  assert.throws(() => Deno.lstatSync(t.env.PATH_SOCKET!), Deno.errors.NotFound, "nothing created");
});

Deno.test("admin main: usage errors exit 2", async () => {
  await using t = await tempEnv();
  for (
    const args of [["--bogus"], ["--json"], ["--listen", "0.0.0.0:8470"], ["--listen", "nope"], [
      "x",
    ]]
  ) {
    const run = spawnAdmin(t.env, args);
    const status = await run.status;
    assert.equal(status.code, 2, `${args.join(" ")}: ${run.stderr()}`);
    assert.match(run.stderr(), /^error: /m);
  }
});

Deno.test("admin main: admin.sock is 0600 in a 0700 dir under umask 000; SIGTERM removes it", async () => {
  await ensureRepoDist();
  await using t = await tempEnv();
  const paths = resolveAdminPaths(t.env);
  const admin = spawnAdmin(t.env, [], { umask: "000" });
  await waitListening(admin);
  assert.equal(modeOf(paths.socketDir), 0o700);
  assert.equal(modeOf(paths.adminSocket), 0o600);
  const health = await unixGet(paths.adminSocket, "http://localhost/health");
  assert.equal((await health.json()).status, "ok");
  const page = await unixGet(paths.adminSocket, "http://localhost/");
  assert.match(await page.text(), /data-island="dashboard"/);
  const status = await admin.stop();
  assert.equal(status.code, 0, admin.stderr());
  assert.throws(() => Deno.lstatSync(paths.adminSocket), Deno.errors.NotFound);
});

Deno.test("admin main: a regular file, a symlink or a live socket at admin.sock is refused", async () => {
  await ensureRepoDist();
  await using t = await tempEnv();
  const paths = resolveAdminPaths(t.env);
  Deno.mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(paths.socketDir, 0o700);

  Deno.writeTextFileSync(paths.adminSocket, "precious");
  const file = spawnAdmin(t.env);
  assert.equal((await file.status).code, 1);
  assert.match(file.stderr(), /a regular file is there/);
  assert.equal(Deno.readTextFileSync(paths.adminSocket), "precious");
  Deno.removeSync(paths.adminSocket);

  const target = `${t.dir}/bashrc`;
  Deno.writeTextFileSync(target, "export SECRET=1\n");
  Deno.symlinkSync(target, paths.adminSocket);
  const link = spawnAdmin(t.env);
  assert.equal((await link.status).code, 1);
  assert.match(link.stderr(), /a symlink is there/);
  assert.equal(Deno.readTextFileSync(target), "export SECRET=1\n");
  Deno.removeSync(paths.adminSocket);

  await using first = spawnAdmin(t.env);
  await waitListening(first);
  const second = spawnAdmin(t.env);
  assert.equal((await second.status).code, 1);
  assert.match(second.stderr(), /another admin is listening/);
  assert.ok(Deno.lstatSync(paths.adminSocket).isSocket, "the live socket is untouched");
});

Deno.test("admin main: a stale socket (nobody listening) is replaced", async () => {
  await ensureRepoDist();
  await using t = await tempEnv();
  const paths = resolveAdminPaths(t.env);
  Deno.mkdirSync(paths.socketDir, { recursive: true, mode: 0o700 });
  Deno.chmodSync(paths.socketDir, 0o700);
  const holder = spawnAdmin(t.env);
  await waitListening(holder);
  await holder.stop("SIGKILL");
  assert.ok(Deno.lstatSync(paths.adminSocket).isSocket, "left behind by SIGKILL");
  await using admin = spawnAdmin(t.env);
  await waitListening(admin);
  const health = await unixGet(paths.adminSocket, "http://localhost/health");
  assert.equal(health.status, 200);
  await health.body?.cancel();
});

Deno.test("admin main: a socket dir with another mode is refused, not changed", async () => {
  await ensureRepoDist();
  await using t = await tempEnv();
  const paths = resolveAdminPaths(t.env);
  Deno.mkdirSync(paths.socketDir, { recursive: true });
  Deno.chmodSync(paths.socketDir, 0o755);
  const admin = spawnAdmin(t.env);
  assert.equal((await admin.status).code, 1);
  assert.match(admin.stderr(), /mode is 0755, expected 0700/);
  assert.equal(modeOf(paths.socketDir), 0o755);
});

Deno.test("admin main: --listen prints a token URL once; the token becomes a cookie", async () => {
  await ensureRepoDist();
  await using t = await tempEnv();
  await using admin = spawnAdmin(t.env, ["--listen", "127.0.0.1:0"]);
  await waitListening(admin);
  // The URL goes to stdout, the "listening" record to stderr: either may arrive first.
  const openLine = /open (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{43}))$/m;
  await waitFor("the access URL", () => openLine.test(admin.stdout()));
  const m = openLine.exec(admin.stdout());
  assert.ok(m, admin.stdout());
  const [, url, port, token] = m;
  assert.ok(!admin.stderr().includes(token!), "the token is not logged");
  const denied = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  const r = await fetch(url!, { redirect: "manual" });
  await r.body?.cancel();
  assert.equal(r.status, 303);
  const cookie = r.headers.get("set-cookie")!.split(";")[0]!;
  const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } });
  assert.equal(page.status, 200);
  await page.body?.cancel();
  // no admin.sock in listen mode
  assert.throws(() => Deno.lstatSync(resolveAdminPaths(t.env).adminSocket), Deno.errors.NotFound);
  // One-time: a second exchange of the same URL is refused.
  const second = await fetch(url!, { redirect: "manual", headers: { accept: "text/html" } });
  assert.equal(second.status, 401);
  assert.match(await second.text(), /already used/);
  // The signing key is private, in the var dir.
  const keyFile = `${resolveAdminPaths(t.env).sessionDir}/session.key`;
  assert.equal(Deno.statSync(keyFile).mode! & 0o777, 0o600);
  assert.equal((await admin.stop()).code, 0);
  // A restart on the same address prints a new token, and the session stays valid.
  await using again = spawnAdmin(t.env, ["--listen", `127.0.0.1:${port}`]);
  await waitListening(again);
  await waitFor("the new access URL", () => /token=/.test(again.stdout()));
  const fresh = /open http:\/\/127\.0\.0\.1:\d+\/\?token=([A-Za-z0-9_-]{43})$/m.exec(
    again.stdout(),
  );
  assert.ok(fresh && fresh[1] !== token, again.stdout());
  const kept = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } });
  assert.equal(kept.status, 200, "the session did not survive the restart");
  await kept.body?.cancel();
  const old = await fetch(url!, { redirect: "manual" });
  assert.equal(old.status, 401, "the previous start's token opens nothing");
  await old.body?.cancel();
  assert.equal((await again.stop()).code, 0);
});
