import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { statSync } from "node:fs";
import { Agent } from "../models/mod.ts";
import { migrate, openDatabase, schemaVersionOf } from "./db.ts";
import { connectionOf } from "./_connection.ts";
import { MIGRATIONS, openStore, SCHEMA_VERSION, searchMessages, searchStatus } from "./mod.ts";
import { sampleAgent, startHelper, tempDbPath } from "./_testing.ts";

Deno.test("MIGRATIONS are numbered 1..n without gaps and SCHEMA_VERSION is the last", () => {
  assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  assert.ok(SCHEMA_VERSION >= 2);
});

Deno.test("openStore() creates a missing database (0600, dir 0700) and migrates it to SCHEMA_VERSION", async () => {
  const { path, dir, cleanup } = await tempDbPath();
  try {
    const store = openStore(path);
    assert.equal(store.schemaVersion(), SCHEMA_VERSION);
    assert.equal(store.integrityCheck(), "ok");
    const db = connectionOf(store).db;
    const history = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version")
      .all();
    assert.deepEqual(history.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    store.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(`${dir}/state`).mode & 0o777, 0o700);
    // Reopening migrates nothing and keeps the version.
    const again = openStore(path);
    assert.equal(again.schemaVersion(), SCHEMA_VERSION);
    again.close();
  } finally {
    await cleanup();
  }
});

/** Data written with the schema of each earlier version, by raw SQL as that build would have. */
const SEEDS: Record<number, (db: DatabaseSync, agentId: string) => void> = {
  1: (db, agentId) => {
    db.prepare(
      `INSERT INTO agents (id, prompt, cwd, model, effort, kind, status, created_at, updated_at,
         last_seq, stderr_truncated, proc_marker) VALUES (?, 'p', '/w', 'm', 'low', 'standard',
         'running', 1000, 1000, 2, 1, 'mk')`,
    ).run(agentId);
    const key = (db.prepare("SELECT agent_key FROM agents WHERE id = ?").get(agentId) as {
      agent_key: number;
    }).agent_key;
    const insert = db.prepare(
      `INSERT INTO messages (agent_key, seq, ts, type, subtype, byte_length, parse_error,
         eof_no_newline, raw) VALUES (?, ?, 1000, 'system', NULL, 2, 0, 0, ?)`,
    );
    insert.run(key, 1, new Uint8Array([0x7b, 0x7d]));
    insert.run(key, 2, new Uint8Array([0xff, 0xfe]));
  },
  2: (db, agentId) => {
    SEEDS[1]!(db, agentId);
    const key = (db.prepare("SELECT agent_key FROM agents WHERE id = ?").get(agentId) as {
      agent_key: number;
    }).agent_key;
    db.prepare("INSERT INTO events (ts, kind, agent_key, seq) VALUES (1000, 'message', ?, 1)").run(
      key,
    );
  },
  3: (db, agentId) => {
    SEEDS[2]!(db, agentId);
    db.prepare("UPDATE agents SET pending_prompt = 'next', pending_permission_mode = 'plan'")
      .run();
  },
  4: (db, agentId) => {
    SEEDS[3]!(db, agentId);
    const key = (db.prepare("SELECT agent_key FROM agents WHERE id = ?").get(agentId) as {
      agent_key: number;
    }).agent_key;
    db.prepare(
      "INSERT INTO usage_ledger (ts, agent_key, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd) VALUES (1000, ?, 1, 2, 0, 0, 0.5)",
    ).run(key);
  },
  5: (db, agentId) => {
    SEEDS[4]!(db, agentId);
    db.prepare("UPDATE agents SET home_mcp = 'hero_books' WHERE id = ?").run(agentId);
  },
  6: (db, agentId) => {
    SEEDS[5]!(db, agentId);
    db.prepare("UPDATE agents SET name = 'seeded zebu' WHERE id = ?").run(agentId);
  },
  7: (db, agentId) => {
    SEEDS[6]!(db, agentId);
  },
  8: (db, agentId) => {
    SEEDS[7]!(db, agentId);
    const key = (db.prepare("SELECT agent_key FROM agents WHERE id = ?").get(agentId) as {
      agent_key: number;
    }).agent_key;
    db.prepare(
      "INSERT INTO agent_worktrees (agent_key, toplevel, head, entries, taken_at) VALUES (?, '/w', NULL, '{}', 1000)",
    ).run(key);
  },
  9: (db, agentId) => {
    SEEDS[8]!(db, agentId);
  },
  10: (db, agentId) => {
    SEEDS[9]!(db, agentId);
  },
  11: (db, agentId) => {
    SEEDS[10]!(db, agentId);
  },
};

Deno.test("openStore() migrates a database from every earlier version, keeping its data", async () => {
  for (let k = 1; k < SCHEMA_VERSION; k++) assert.ok(SEEDS[k], `no seed for version ${k}`);
  for (let k = 0; k < SCHEMA_VERSION; k++) {
    const { path, cleanup } = await tempDbPath();
    try {
      const agentId = `agent-v${k}`;
      const old = openDatabase(path);
      assert.equal(migrate(old, path, MIGRATIONS.slice(0, k)), k);
      SEEDS[k]?.(old, agentId);
      old.close();

      const store = openStore(path);
      assert.equal(store.schemaVersion(), SCHEMA_VERSION, `from version ${k}`);
      assert.equal(store.integrityCheck(), "ok");
      if (k > 0) {
        const agent = store.getAgent(agentId)!;
        Agent.parse(agent);
        assert.equal(agent.status, "running");
        assert.equal(agent.last_seq, 2);
        assert.equal(agent.stderr_truncated, true);
        assert.equal(store.getProcessRecord(agentId)!.marker, "mk");
        assert.deepEqual(store.readMessageBytes(agentId, 2), new Uint8Array([0xff, 0xfe]));
        assert.equal(store.countMessages(agentId), 2);
        if (k >= 3) assert.equal(store.getProcessRecord(agentId)!.pending_prompt, "next");
        // Agents from before version 5 have no home MCP.
        assert.equal(agent.home_mcp, k >= 5 ? "hero_books" : null);
        assert.equal(agent.hero_context, null);
        // Agents from before version 10 have no pause and no budgets, and normal priority.
        assert.deepEqual(
          [agent.pause_reason, agent.resume_at, agent.max_cost_usd, agent.max_turns],
          [null, null, null, null],
        );
        assert.equal(agent.priority, "normal");
        // The approvals step: every existing agent keeps running without being asked.
        assert.equal(agent.permission_mode, "bypassPermissions");
        assert.deepEqual(store.listApprovals({ agentId }), []);
        // Version 12: a running agent's stretch starts at its last known start (here updated_at).
        assert.deepEqual([agent.active_ms, agent.active_since], [0, 1000]);
        // The migrated database takes new writes, including the version 4 tables.
        const hash = "ab".repeat(32);
        store.insertProxyToken(agentId, hash, Date.now() + 60_000);
        store.transition(agentId, "failed", { error_code: "daemon_restart" });
        assert.ok(store.findProxyToken(hash)!.revoked_at, "a terminal agent's token is revoked");
        // Seeds from version 2 on carry one event of their own.
        assert.equal(store.readEvents(0, 10, agentId).length, k >= 2 ? 2 : 1);
        // Version 6: a delete leaves a tombstone; cwds come from the new index.
        assert.deepEqual(store.knownCwds().map((c) => c.cwd), ["/w"]);
        // Version 7: existing agents' names are searchable at once; their lines are backfilled.
        if (k >= 6) {
          assert.deepEqual(
            searchMessages(store, { q: "zebu", limit: 5 }).hits.map((h) => h.agent_id),
            [agentId],
          );
        }
        assert.equal(searchStatus(store).pending, 2);
        // Version 9: a snapshot row from before is an agent that ran in its cwd (isolation none).
        if (k >= 8) {
          assert.equal(store.worktreeSnapshot(agentId)?.toplevel, "/w");
          assert.equal(store.isolation(agentId), undefined);
        }
        const gone = store.deleteAgent(agentId);
        assert.deepEqual(store.readEvents(gone.event_id - 1, 10).map((e) => e.agent_id), [agentId]);
      }
      store.insertAgent(sampleAgent());
      store.close();
    } finally {
      await cleanup();
    }
  }
});

Deno.test("openStore() refuses a database whose schema is newer than this build", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    openStore(path).close();
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => openStore(path),
      {
        message: `Cannot open database ${path}: schema version ${
          SCHEMA_VERSION + 1
        } is newer than this build (${SCHEMA_VERSION})`,
      },
    );
  } finally {
    await cleanup();
  }
});

Deno.test("migrate() rolls a failing migration back entirely", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const db = openDatabase(path);
    const broken = [...MIGRATIONS, {
      version: SCHEMA_VERSION + 1,
      name: "broken",
      sql: "CREATE TABLE half_done (x); SELECT * FROM no_such_table;",
    }];
    assert.throws(
      () => migrate(db, path, broken),
      /Cannot migrate database .* \(broken\): no such table/,
    );
    assert.equal(schemaVersionOf(db), SCHEMA_VERSION);
    assert.equal(
      db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").get()!.n,
      0,
    );
    db.close();
  } finally {
    await cleanup();
  }
});

Deno.test("openStore() sets WAL, synchronous=FULL, foreign keys and busy_timeout >= 5000", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const store = openStore(path);
    const db = connectionOf(store).db;
    const pragma = (name: string) => Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0];
    assert.equal(pragma("journal_mode"), "wal");
    assert.equal(pragma("synchronous"), 2);
    assert.equal(pragma("foreign_keys"), 1);
    assert.ok((pragma("busy_timeout") as number) >= 5000);
    store.close();
    const slow = openStore(path, { busyTimeoutMs: 12_345 });
    assert.equal(
      Object.values(connectionOf(slow).db.prepare("PRAGMA busy_timeout").get()!)[0],
      12_345,
    );
    slow.close();
    assert.throws(() => openStore(path, { busyTimeoutMs: 100 }), RangeError);
  } finally {
    await cleanup();
  }
});

Deno.test("store.write() waits for another process's write lock instead of failing with SQLITE_BUSY", async () => {
  const { path, cleanup } = await tempDbPath();
  const store = openStore(path);
  try {
    const holdMs = 1500;
    const { child, drained } = await startHelper("hold_lock.ts", [path, String(holdMs)], "LOCKED");
    const started = performance.now();
    // Blocks in SQLite's busy handler until the child commits (~1.5 s), well under 5 s.
    const agent = store.write(() => store.insertAgent(sampleAgent()));
    const waited = performance.now() - started;
    assert.ok(waited > 500, `write did not wait for the lock (${waited} ms)`);
    assert.equal(store.getAgent(agent.id)?.id, agent.id);
    const db = connectionOf(store).db;
    assert.equal(db.prepare("SELECT count(*) AS n FROM lock_holder").get()!.n, 1);
    await drained;
    assert.equal((await child.status).code, 0);
  } finally {
    store.close();
    await cleanup();
  }
});

Deno.test("openStore(':memory:') works for in-process tests", () => {
  const store = openStore(":memory:");
  const agent = store.insertAgent(sampleAgent());
  assert.equal(store.getAgent(agent.id)?.id, agent.id);
  assert.equal(store.schemaVersion(), SCHEMA_VERSION);
  store.close();
});

Deno.test("openStore() refuses a zero-length database file, naming it and the fix; the file is untouched", async () => {
  const { path, dir, cleanup } = await tempDbPath();
  try {
    Deno.mkdirSync(`${dir}/state`, { recursive: true });
    Deno.writeFileSync(path, new Uint8Array(0), { mode: 0o600 });
    const before = Deno.statSync(path);
    assert.throws(
      () => openStore(path),
      (err: Error) =>
        err.name === "DatabaseFileError" && err.message.includes(path) &&
        /empty \(0 bytes\)/.test(err.message) && /restore the newest backup/.test(err.message) &&
        err.message.includes(`${dir}/state/backups/db-`),
    );
    const after = Deno.statSync(path);
    assert.equal(after.size, 0);
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
    assert.throws(() => Deno.statSync(`${path}-wal`), Deno.errors.NotFound);
  } finally {
    await cleanup();
  }
});

Deno.test("openStore() refuses a truncated database and a file that is not SQLite, naming the file", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const store = openStore(path);
    for (let i = 0; i < 200; i++) store.insertAgent(sampleAgent({ prompt: "x".repeat(2000) }));
    store.close();
    const full = Deno.readFileSync(path);
    assert.ok(full.length > 8 * 4096, `database has ${full.length} bytes`);
    Deno.writeFileSync(path, full.subarray(0, 3 * 4096));
    assert.throws(
      () => openStore(path),
      (err: Error) =>
        err.name === "DatabaseFileError" && err.message.includes(path) &&
        /truncated/.test(err.message) && /restore/.test(err.message),
    );
    Deno.writeTextFileSync(path, "not a database at all, just some text ".repeat(10));
    assert.throws(
      () => openStore(path),
      (err: Error) =>
        err.name === "DatabaseFileError" && err.message.includes(path) &&
        /not a SQLite database/.test(err.message),
    );
  } finally {
    await cleanup();
  }
});

function removeIfThere(...paths: string[]): void {
  for (const p of paths) {
    try {
      Deno.removeSync(p);
    } catch {
      // not there
    }
  }
}

Deno.test("openStore() opens the image of a kill -9 mid-checkpoint: file shorter than its header, pages in the WAL", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const live = openStore(path);
    for (let i = 0; i < 200; i++) live.insertAgent(sampleAgent({ prompt: "x".repeat(2000) }));
    const pages = Number(
      (connectionOf(live).db.prepare("PRAGMA page_count").get() as { page_count: number })
        .page_count,
    );
    // The crash image: the files as they are while the writer lives (the rows only in the WAL),
    // with page 1 as a checkpoint writes it first: the new page count, the rest not yet copied.
    const image = `${path}.image`;
    Deno.copyFileSync(`${path}-wal`, `${image}-wal`);
    const main = Deno.readFileSync(path);
    live.close();
    const view = new DataView(main.buffer, main.byteOffset);
    view.setUint32(28, pages);
    view.setUint32(92, view.getUint32(24));
    Deno.writeFileSync(image, main);
    assert.ok(main.length < pages * 4096, `${main.length} bytes, header says ${pages} pages`);

    const reopened = openStore(image);
    try {
      assert.equal(reopened.integrityCheck(), "ok");
      assert.equal(reopened.listAgents({ limit: 500 }).agents.length, 200);
    } finally {
      reopened.close();
    }
    // Without the WAL the same short file is refused as truncated.
    Deno.writeFileSync(image, main);
    removeIfThere(`${image}-wal`, `${image}-shm`);
    assert.throws(() => openStore(image), /truncated/);
  } finally {
    removeIfThere(`${path}.image`, `${path}.image-wal`, `${path}.image-shm`);
    await cleanup();
  }
});

Deno.test("openStore() reports a damaged page with the file and the restore hint", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const store = openStore(path);
    store.close();
    // Page 1 keeps its header; the schema's b-tree page bytes are garbage.
    const bytes = Deno.readFileSync(path);
    bytes.fill(0xa5, 100, 4096);
    Deno.writeFileSync(path, bytes);
    assert.throws(
      () => openStore(path),
      (err: Error) =>
        err.name === "DatabaseFileError" && err.message.includes(path) &&
        /damaged/.test(err.message) && /restore/.test(err.message),
    );
  } finally {
    await cleanup();
  }
});

Deno.test("openDatabase() never leaves a zero-length file where it creates one", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const db = openDatabase(path);
    assert.ok(Deno.statSync(path).size > 0, "the header is written before the file appears");
    db.close();
    const left = [...Deno.readDirSync(path.slice(0, path.lastIndexOf("/")))].map((e) => e.name);
    assert.deepEqual(left.filter((n) => n.includes(".new-")), [], "no temporary files left");
  } finally {
    await cleanup();
  }
});

Deno.test("migration 12 backfills active time: a running stretch, one-turn runs; older follow-ups unknown (0)", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const old = openDatabase(path);
    assert.equal(migrate(old, path, MIGRATIONS.slice(0, 11)), 11);
    const insert = old.prepare(
      `INSERT INTO agents (id, prompt, cwd, model, effort, kind, status, created_at, updated_at,
         started_at, finished_at, turn_count, proc_started_at, last_seq, stderr_truncated)
         VALUES (?, 'p', '/w', 'm', 'low', 'standard', ?, 1000, 9000, ?, ?, ?, ?, 0, 0)`,
    );
    insert.run("run", "running", 2000, null, 0, 7000);
    insert.run("one", "completed", 2000, 5000, 1, 2000);
    insert.run("many", "awaiting_review", 2000, 90000, 3, 80000);
    insert.run("never", "failed", null, 3000, 0, null);
    old.close();
    const store = openStore(path);
    const at = (id: string) => {
      const a = store.getAgent(id)!;
      return [a.active_ms, a.active_since];
    };
    assert.deepEqual(at("run"), [0, 7000], "from its process spawn");
    assert.deepEqual(at("one"), [3000, null], "one turn: started_at to finished_at");
    assert.deepEqual(at("many"), [0, null], "idle time between old follow-ups is unknown");
    assert.deepEqual(at("never"), [0, null]);
    store.close();
  } finally {
    await cleanup();
  }
});

Deno.test("transition() accumulates active time only while running, durably", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    {
      const store = openStore(path);
      const id = store.insertAgent(sampleAgent()).id;
      const queued = store.getAgent(id)!;
      assert.deepEqual([queued.active_ms, queued.active_since], [0, null]);
      await new Promise((r) => setTimeout(r, 30)); // queued time does not count
      const t0 = Date.now();
      const running = store.transition(id, "running");
      const t1 = Date.now();
      assert.ok(running.active_since! >= t0 && running.active_since! <= t1);
      assert.equal(running.active_ms, 0);
      // A patch cannot touch the counters: only status changes move them.
      assert.throws(() => store.updateAgent(id, { active_ms: 5 } as never), /not a patchable/);
      await new Promise((r) => setTimeout(r, 40));
      const review = store.transition(id, "awaiting_review");
      assert.equal(review.active_since, null);
      assert.equal(review.active_ms, review.updated_at - running.active_since!);
      assert.ok(review.active_ms >= 40, `${review.active_ms}`);
      await new Promise((r) => setTimeout(r, 60)); // in review does not count
      const again = store.transition(id, "running");
      await new Promise((r) => setTimeout(r, 20));
      const moved = store.transitionMany([id], "cancelled");
      assert.equal(moved.length, 1);
      const done = moved[0]!;
      assert.equal(done.active_ms, review.active_ms + (done.updated_at - again.active_since!));
      assert.ok(done.active_ms < done.updated_at - queued.created_at - 60, "idle time excluded");
      store.close();
    }
    const reopened = openStore(path);
    const [agent] = reopened.listAgents({ limit: 1 }).agents;
    assert.ok(agent!.active_ms >= 60, "kept across a reopen");
    assert.equal(agent!.active_since, null);
    reopened.close();
  } finally {
    await cleanup();
  }
});

Deno.test("transitionMany(…, 'last_line') ends a stretch found after a daemon stop at its newest line", async () => {
  const { path, cleanup } = await tempDbPath();
  try {
    const store = openStore(path);
    const hour = 3_600_000;
    const ids = [0, 1, 2].map(() => store.insertAgent(sampleAgent()).id);
    for (const id of ids) store.transition(id, "running");
    const db = connectionOf(store).db;
    // As if the daemon died 5 h ago: each stretch began then.
    const since = Date.now() - 5 * hour;
    db.prepare("UPDATE agents SET active_since = ?").run(since);
    const key = (id: string) =>
      (db.prepare("SELECT agent_key FROM agents WHERE id = ?").get(id) as { agent_key: number })
        .agent_key;
    const line = db.prepare(
      `INSERT INTO messages (agent_key, seq, ts, type, byte_length, parse_error, eof_no_newline,
         raw) VALUES (?, ?, ?, 'assistant', 2, 0, 0, X'7b7d')`,
    );
    line.run(key(ids[0]!), 1, since + 1_000);
    line.run(key(ids[0]!), 2, since + 4_000); // its last sign of life
    line.run(key(ids[1]!), 1, since - 9_000); // a line from an older stretch only
    const moved = store.transitionMany(
      ids,
      "failed",
      { error_code: "daemon_restart" },
      "last_line",
    );
    assert.deepEqual(moved.map((a) => [a.active_ms, a.active_since]), [
      [4_000, null],
      [0, null],
      [0, null], // no line at all: nothing is known to have run
    ]);
    // A plain transition ends the stretch now (the 5 h would count).
    const other = store.insertAgent(sampleAgent()).id;
    store.transition(other, "running");
    db.prepare("UPDATE agents SET active_since = ? WHERE id = ?").run(since, other);
    assert.ok(store.transition(other, "cancelled").active_ms >= 5 * hour);
    store.close();
  } finally {
    await cleanup();
  }
});
