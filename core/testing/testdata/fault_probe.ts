/**
 * A SQLite client for `fault_fs_test.ts`, run under the fault shim (tests only).
 * - `fail <db> <ctl> <n> <errno>`: creates a table, arms round 1 (n, errno, until cleared), inserts
 *   one row per transaction until one fails, clears the round, inserts once more; prints JSON.
 * - `commit <db> <synchronous>`: inserts one row per transaction forever, printing each committed
 *   id on its own line (the parent kills it).
 */
import { DatabaseSync } from "node:sqlite";

const [mode, db, ...rest] = Deno.args;
const conn = new DatabaseSync(db!);
conn.exec("PRAGMA journal_mode = WAL");

if (mode === "fail") {
  const [ctl, n, errno] = rest;
  conn.exec("PRAGMA synchronous = FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const insert = conn.prepare("INSERT INTO t (v) VALUES (?)");
  Deno.writeTextFileSync(`${ctl}/arm.1.tmp`, `${n} ${errno} 0\n`);
  Deno.renameSync(`${ctl}/arm.1.tmp`, `${ctl}/arm.1`);
  let committed = 0;
  let error = "";
  for (let i = 0; i < 10_000 && !error; i++) {
    try {
      insert.run("x".repeat(300));
      committed++;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
  }
  Deno.writeTextFileSync(`${ctl}/clear.1`, "\n");
  insert.run("after");
  const rows = (conn.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
  const integrity = (conn.prepare("PRAGMA integrity_check").get() as { integrity_check: string })
    .integrity_check;
  console.log(JSON.stringify({ committed, error, rows, integrity }));
} else if (mode === "commit") {
  conn.exec(
    `PRAGMA synchronous = ${
      rest[0]
    }; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)`,
  );
  const insert = conn.prepare("INSERT INTO t (v) VALUES (?) RETURNING id");
  const encoder = new TextEncoder();
  for (;;) {
    const { id } = insert.get("y".repeat(300)) as { id: number };
    Deno.stdout.writeSync(encoder.encode(`${id}\n`));
  }
} else {
  throw new Error(`Cannot run the probe: unknown mode ${mode}`);
}
