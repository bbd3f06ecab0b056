// Holds the write lock of a database for a while, as another process would.
// Usage: deno run -A hold_lock.ts <db path> <hold ms>
import { DatabaseSync } from "node:sqlite";

const [path, holdMs] = Deno.args;
// Waits for the lock like any other writer would (the daemon commits often: lines, the index).
const db = new DatabaseSync(path!, { timeout: 30_000 });
db.exec("BEGIN IMMEDIATE");
db.exec("CREATE TABLE IF NOT EXISTS lock_holder (at INTEGER)");
db.prepare("INSERT INTO lock_holder (at) VALUES (?)").run(Date.now());
console.log("LOCKED");
await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
db.exec("COMMIT");
db.close();
console.log("RELEASED");
