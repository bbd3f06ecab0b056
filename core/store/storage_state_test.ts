import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { storageFaultOf, StorageMonitor, type StorageStatus } from "./mod.ts";
import { tempDbPath } from "./_testing.ts";

Deno.test("storageFaultOf() types real SQLite full and busy errors, and nothing else", async () => {
  const { path, cleanup } = await tempDbPath();
  await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
  const a = new DatabaseSync(path);
  const b = new DatabaseSync(path);
  try {
    a.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x BLOB)");
    const pages = a.prepare("PRAGMA page_count").get()!.page_count as number;
    a.exec(`PRAGMA max_page_count = ${pages}`);
    const full = captured(() => a.prepare("INSERT INTO t VALUES (?)").run(new Uint8Array(65_536)));
    assert.equal(storageFaultOf(full), "full");
    assert.equal(storageFaultOf(new Error("wrapped", { cause: full })), "full");

    a.exec("BEGIN IMMEDIATE");
    b.exec("PRAGMA busy_timeout = 10");
    const busy = captured(() => b.exec("BEGIN IMMEDIATE"));
    assert.equal(storageFaultOf(busy), "busy");
    a.exec("ROLLBACK");

    const constraint = captured(() => a.exec("INSERT INTO missing VALUES (1)"));
    assert.equal(storageFaultOf(constraint), null);
    // Only SQLite's own errors count: the same words from elsewhere are not a storage fault.
    assert.equal(storageFaultOf(new Error("database or disk is full")), null);
    assert.equal(storageFaultOf("database is locked"), null);
  } finally {
    a.close();
    b.close();
    await cleanup();
  }
});

Deno.test("StorageMonitor reports a fault with since, retries and the last error, crosses its bound once, and recovers", () => {
  const seen: StorageStatus[] = [];
  const monitor = new StorageMonitor({ boundMs: 1_000, onChange: (s) => seen.push(s) });
  assert.deepEqual(monitor.status(0), {
    state: "ok",
    since: null,
    last_error: null,
    retries: 0,
    over_bound: false,
    bound_ms: 1_000,
  });
  monitor.fault("busy", new Error("database is locked"), 100);
  monitor.fault("full", new Error("database or disk is full"), 200);
  monitor.fault("full", new Error("database or disk is full"), 300);
  assert.deepEqual(monitor.status(400), {
    state: "storage_full",
    since: 100,
    last_error: "database or disk is full",
    retries: 3,
    over_bound: false,
    bound_ms: 1_000,
  });
  monitor.fault("full", new Error("database or disk is full"), 1_100);
  monitor.fault("full", new Error("database or disk is full"), 1_200);
  assert.equal(monitor.status(1_300).over_bound, true);
  monitor.ok();
  assert.equal(monitor.failing, false);
  assert.deepEqual(seen.map((s) => [s.state, s.over_bound]), [
    ["storage_busy", false],
    ["storage_full", false],
    ["storage_full", true], // the bound, once
    ["ok", false],
  ]);
  assert.equal(monitor.status().last_error, "database or disk is full", "kept for the record");
  assert.throws(() => new StorageMonitor({ boundMs: -1 }), RangeError);
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}
