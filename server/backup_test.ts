/**
 * Backups: `system.backup` and `hero_orchestrator backup` against the production daemon, and the
 * periodic backup's rotation.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { resolvePaths } from "@hero/core/config";
import { createClient, RpcError } from "@hero/sdk";
import { REPO_ROOT, runArgs } from "@hero/tools/permissions";
import { backupName, listBackups } from "./backup.ts";
import { spawnDaemon, startInProcess, tempEnv, waitFor } from "./testing/daemon.ts";
import { unixFetch } from "./testing/unix_fetch.ts";

function rowsOf(path: string): { integrity: string; agents: string[] } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const integrity = (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string })
      .integrity_check;
    const agents = db.prepare("SELECT id FROM agents ORDER BY id").all().map((r) => String(r.id));
    return { integrity, agents };
  } finally {
    db.close();
  }
}

Deno.test("backup: system.backup and `cli backup` write 0600 copies that pass integrity_check and hold the rows", async () => {
  await using t = await tempEnv();
  const paths = resolvePaths(t.env);
  await using daemon = await spawnDaemon(t.env);
  const transport = unixFetch(paths.rpcSocket);
  try {
    const client = createClient({ fetch: transport.fetch });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await client.agent.create({ prompt: `row ${i}`, cwd: t.work })).id);
    }
    await waitFor("agents done", async () => {
      for (const id of ids) {
        if ((await client.agent.get({ id })).status !== "awaiting_review") return false;
      }
      return true;
    }, 60_000);

    const result = await client.system.backup();
    assert.ok(result.path.startsWith(`${paths.stateDir}/backups/db-`), result.path);
    assert.match(result.path.slice(result.path.lastIndexOf("/") + 1), /^db-\d{8}T\d{9}Z\.sqlite$/);
    const info = Deno.statSync(result.path);
    assert.equal(info.mode! & 0o777, 0o600);
    assert.equal(info.size, result.bytes);
    const copy = rowsOf(result.path);
    assert.equal(copy.integrity, "ok");
    assert.deepEqual(copy.agents, [...ids].sort());

    // Outside what the server may write: a typed refusal naming the rule, nothing written.
    const outside = `${t.dir}/elsewhere.sqlite`;
    await assert.rejects(
      () => client.system.backup({ path: outside }),
      (err) =>
        err instanceof RpcError && err.reason === "backup_failed" &&
        err.message.includes(paths.stateDir),
    );
    assert.throws(() => Deno.statSync(outside), Deno.errors.NotFound);
    // An existing file is never overwritten.
    await assert.rejects(
      () => client.system.backup({ path: result.path }),
      (err) =>
        err instanceof RpcError && err.reason === "backup_failed" && /exists/.test(err.message),
    );
  } finally {
    transport.close();
  }

  // The CLI, under its own permission set, through the SDK.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...runArgs("cli", t.env), "backup", "--json"],
    env: t.env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const printed = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(rowsOf(printed.path).integrity, "ok");
  assert.equal(rowsOf(printed.path).agents.length, 3);
  assert.equal(listBackups(`${paths.stateDir}/backups`).length, 2);
  assert.equal((await daemon.stop()).code, 0, daemon.stderr());
});

Deno.test("backup: the periodic backup keeps only the newest HERO_ORCHESTRATOR_BACKUP_KEEP files", async () => {
  await using t = await tempEnv({
    HERO_ORCHESTRATOR_BACKUP_INTERVAL_MS: "1000",
    HERO_ORCHESTRATOR_BACKUP_KEEP: "2",
  });
  const dir = `${resolvePaths(t.env).stateDir}/backups`;
  // An older backup from before: rotated away like the others.
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ancient = `${dir}/${backupName(new Date(Date.UTC(2020, 0, 1)))}`;
  Deno.writeTextFileSync(ancient, "old");
  const logs: string[] = [];
  await using d = await startInProcess(t.env, {
    log: (_level, message, fields) => logs.push(`${message} ${JSON.stringify(fields)}`),
  });
  await d.client.agent.create({ prompt: "kept in every backup", cwd: t.work });
  const backedUp = () => logs.filter((l) => l.startsWith("database backed up")).length;
  await waitFor("four periodic backups", () => backedUp() >= 4, 60_000);
  const files = listBackups(dir);
  assert.equal(files.length, 2, files.join(", "));
  assert.ok(!files.includes(ancient), "the oldest file was rotated away");
  for (const file of files) {
    assert.equal(Deno.statSync(file).mode! & 0o777, 0o600);
    const copy = rowsOf(file);
    assert.equal(copy.integrity, "ok");
    assert.equal(copy.agents.length, 1);
  }
});
