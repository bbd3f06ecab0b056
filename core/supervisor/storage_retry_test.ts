import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { StorageMonitor } from "../store/mod.ts";
import { retryStorage } from "./storage_retry.ts";

/** A real SQLite database that is "full" until `free()`. */
function fullDatabase(dir: string) {
  const db = new DatabaseSync(`${dir}/db.sqlite`);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x BLOB)");
  const pages = db.prepare("PRAGMA page_count").get()!.page_count as number;
  db.exec(`PRAGMA max_page_count = ${pages}`);
  return {
    db,
    insert: () =>
      Number(db.prepare("INSERT INTO t VALUES (?)").run(new Uint8Array(65_536)).changes),
    free: () => db.exec("PRAGMA max_page_count = 4294967294"),
  };
}

Deno.test("retryStorage() retries a write through a full disk with back-off, reports it and logs once", async () => {
  const dir = await Deno.makeTempDir();
  const { db, insert, free } = fullDatabase(dir);
  const states: string[] = [];
  const monitor = new StorageMonitor({ onChange: (s) => states.push(s.state) });
  const logs: string[] = [];
  let attempts = 0;
  try {
    const written = await retryStorage(() => {
      if (++attempts === 4) free();
      return insert();
    }, {
      what: "record the end of the run",
      agentId: "a1",
      monitor,
      minDelayMs: 5,
      maxDelayMs: 20,
      log: (level, message) => logs.push(`${level}: ${message}`),
    });
    assert.equal(written, 1);
    assert.equal(attempts, 4);
    assert.deepEqual(states, ["storage_full", "ok"]);
    assert.deepEqual(logs, [
      "warn: Cannot record the end of the run yet; retrying",
      "info: recorded after 3 failed attempts: record the end of the run",
    ]);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("retryStorage() throws other errors at once, and a fault once abandon() says so", async () => {
  const dir = await Deno.makeTempDir();
  const { db, insert } = fullDatabase(dir);
  const options = {
    what: "record",
    agentId: "a1",
    monitor: new StorageMonitor(),
    minDelayMs: 5,
    maxDelayMs: 5,
    log: () => {},
  };
  try {
    let calls = 0;
    await assert.rejects(
      retryStorage(() => {
        calls++;
        throw new TypeError("a bug");
      }, options),
      TypeError,
    );
    assert.equal(calls, 1);
    let abandon = false;
    const pending = retryStorage(insert, { ...options, abandon: () => abandon });
    await new Promise((r) => setTimeout(r, 30));
    abandon = true;
    await assert.rejects(pending, /database or disk is full/);
    assert.equal(options.monitor.status().state, "storage_full");
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
