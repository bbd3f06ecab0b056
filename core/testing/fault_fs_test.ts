import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  applyPowerLoss,
  buildFaultShim,
  faultSetup,
  shimLoadedPid,
  writeFaultHit,
} from "./fault_fs.ts";

const PROBE = new URL("./testdata/fault_probe.ts", import.meta.url).pathname;

/** Runs the probe under the shim: `sh -c 'export LD_PRELOAD=…; exec deno run …'`. */
function probe(prelude: string, env: Record<string, string>, args: string[]): Deno.Command {
  const quoted = [Deno.execPath(), "run", "-A", PROBE, ...args]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return new Deno.Command("sh", {
    args: ["-c", `${prelude} && exec ${quoted}`],
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test("fault shim: node:sqlite's writes go through it; the N-th write fails with the errno and SQLite's error says so", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "hero_fault_" }));
  try {
    const shim = await buildFaultShim(dir);
    for (
      const [n, errno, message] of [
        [1, "EIO", /disk I\/O error/],
        [7, "ENOSPC", /database or disk is full/],
      ] as const
    ) {
      const ctl = `${dir}/ctl-${n}`;
      await Deno.mkdir(ctl);
      const db = `${dir}/probe-${n}.sqlite`;
      const setup = faultSetup(shim, { db, ctl });
      const out = await probe(setup.prelude, setup.env, ["fail", db, ctl, String(n), errno])
        .output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, stderr);
      const result = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.match(result.error, message);
      assert.equal(result.integrity, "ok");
      // Every row whose transaction committed is there, plus the one after the fault cleared.
      assert.equal(result.rows, result.committed + 1);
      assert.ok(await shimLoadedPid(ctl));
      assert.match((await writeFaultHit(ctl, 1))!, new RegExp(`^${n} (p?write\\w*) (db|wal)$`));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs the probe's commit loop under the shim, kills it after `commits`, undoes unsynced writes. */
async function commitThenPowerLoss(dir: string, shim: string, synchronous: string, commits = 300) {
  const db = `${dir}/commit-${synchronous}.sqlite`;
  const undo = `${dir}/undo-${synchronous}`;
  const setup = faultSetup(shim, { db, undo });
  const child = probe(setup.prelude, setup.env, ["commit", db, synchronous]).spawn();
  let last = 0;
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (last < commits) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Cannot read the probe's commits: it ended early (${text})`);
    text += value;
    const lines = text.split("\n");
    text = lines.pop()!;
    if (lines.length > 0) last = Number(lines.at(-1));
  }
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel().catch(() => {});
  await child.stderr.cancel();
  const report = await applyPowerLoss(db, undo);
  let rows = 0;
  let integrity = "ok";
  try {
    const conn = new DatabaseSync(db);
    try {
      integrity = (conn.prepare("PRAGMA integrity_check").get() as { integrity_check: string })
        .integrity_check;
      rows = (conn.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
    } finally {
      conn.close();
    }
  } catch (err) {
    // With nothing synced the table itself may be gone.
    if (!/no such table/.test(String(err))) throw err;
  }
  return { acknowledged: last, rows, integrity, report };
}

Deno.test("fault shim: power loss keeps every commit with synchronous=FULL and drops unsynced ones with OFF", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "hero_fault_" }));
  try {
    const shim = await buildFaultShim(dir);
    const full = await commitThenPowerLoss(dir, shim, "FULL");
    assert.equal(full.integrity, "ok");
    assert.ok(full.rows >= full.acknowledged, JSON.stringify(full));
    // OFF never syncs: every acknowledged row rests on writes the power loss takes back.
    const off = await commitThenPowerLoss(dir, shim, "OFF");
    assert.equal(off.integrity, "ok");
    assert.ok(off.rows < off.acknowledged, JSON.stringify(off));
    assert.ok(off.report.bytes > 0 || Object.keys(off.report.undone).length > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
