// Commits back to back on a database, as a busy writer in another process would: each
// transaction holds the write lock <hold ms>, then leaves it free <gap ms>, until <run ms> passed.
// Prints CHURNING after the first commit. Usage:
// deno run -A churn_lock.ts <db path> <run ms> [hold ms] [gap ms]
import { DatabaseSync } from "node:sqlite";

const [path, runMs, holdMs = "2", gapMs = "1"] = Deno.args;
const db = new DatabaseSync(path!, { timeout: 30_000 });
// Its own commits need not reach the disk: only its lock matters.
db.exec("PRAGMA synchronous = OFF");
db.exec("CREATE TABLE IF NOT EXISTS lock_churn (at INTEGER)");
const insert = db.prepare("INSERT INTO lock_churn (at) VALUES (?)");
// Sleeps without giving the lock up and without spinning a core.
const pause = new Int32Array(new SharedArrayBuffer(4));
const end = Date.now() + Number(runMs);
let commits = 0;
while (Date.now() < end) {
  db.exec("BEGIN IMMEDIATE");
  insert.run(Date.now());
  Atomics.wait(pause, 0, 0, Number(holdMs));
  db.exec("COMMIT");
  if (++commits === 1) console.log("CHURNING");
  Atomics.wait(pause, 0, 0, Number(gapMs));
}
db.close();
console.log(`COMMITS ${commits}`);
