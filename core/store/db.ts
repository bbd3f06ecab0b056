/** Opening a database file with the engine's pragmas, and running migrations. */
import { DatabaseSync } from "node:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { checkSqliteVersion } from "./sqlite_version.ts";
import { type Migration, MIGRATIONS } from "./migrations.ts";
import { messageOf } from "./errors.ts";

/** Options for {@linkcode openDatabase}. */
export interface OpenDatabaseOptions {
  /** How long a write waits for another connection's lock before SQLITE_BUSY. At least 5000. */
  busyTimeoutMs?: number;
}

/** Default and minimum busy timeout: below 5 s, lock waits reach callers as SQLITE_BUSY (T22). */
export const MIN_BUSY_TIMEOUT_MS = 5_000;

/** Above this size the WAL is truncated when it is reset, so an idle daemon keeps a small `-wal`. */
const JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024;

const MEMORY = ":memory:";

function createPrivateFile(path: string): void {
  try {
    // 0600 before SQLite first opens it: SQLite gives `-wal` and `-shm` the main file's mode.
    writeFileSync(path, "", { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw err;
  }
}

/**
 * Opens (creating if missing) the database at `path` in WAL mode with `synchronous=FULL`,
 * `foreign_keys=ON` and a busy timeout, after checking the SQLite version. Does not migrate.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): DatabaseSync {
  const busyTimeoutMs = options.busyTimeoutMs ?? MIN_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < MIN_BUSY_TIMEOUT_MS) {
    throw new RangeError(
      `Cannot open database ${path}: busyTimeoutMs must be an integer >= ${MIN_BUSY_TIMEOUT_MS}, got ${busyTimeoutMs}`,
    );
  }
  let db: DatabaseSync;
  try {
    if (path !== MEMORY) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      createPrivateFile(path);
    }
    db = new DatabaseSync(path);
  } catch (err) {
    throw new Error(`Cannot open database ${path}: ${messageOf(err)}`, { cause: err });
  }
  try {
    checkSqliteVersion(sqliteVersionOf(db));
    // busy_timeout first: switching to WAL needs a lock another process may hold.
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    const mode = (db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string })
      .journal_mode;
    if (path !== MEMORY && mode !== "wal") {
      throw new Error(`Cannot open database ${path}: journal_mode is "${mode}", expected "wal"`);
    }
    db.exec(
      `PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT}`,
    );
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * A storage condition that passes by itself: `full` (SQLITE_FULL: disk or quota full),
 * `busy` (SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock past busy_timeout),
 * `io` (SQLITE_IOERR: the file system failed a read or write).
 */
export type StorageFault = "full" | "busy" | "io";

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;

/** SQLite's own messages for the codes, for errors that come without `errcode`. */
const FAULT_MESSAGES: ReadonlyArray<[RegExp, StorageFault]> = [
  [/^database or disk is full\b/, "full"],
  [/^database (table )?is locked\b/, "busy"],
  [/^disk I\/O error\b/, "io"],
];

/**
 * The transient storage fault `err` (or an error in its `cause` chain) reports, or null for any
 * other error (a constraint, a bug, bad input): those fail the same way on every retry.
 * `node:sqlite` errors have `code` `ERR_SQLITE_ERROR` and usually the (extended) result code in
 * `errcode`; some (SQLITE_BUSY from `exec()`, measured with Deno 2.9.6) carry only SQLite's message.
 */
export function storageFaultOf(err: unknown): StorageFault | null {
  for (let e = err, depth = 0; e instanceof Object && depth < 8; depth++) {
    const { code, errcode, message } = e as {
      code?: unknown;
      errcode?: unknown;
      message?: unknown;
    };
    if (typeof errcode === "number") {
      switch (errcode & 0xff) {
        case SQLITE_FULL:
          return "full";
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
          return "busy";
        case SQLITE_IOERR:
          return "io";
        default:
          return null;
      }
    }
    if (code === "ERR_SQLITE_ERROR" && typeof message === "string") {
      for (const [pattern, fault] of FAULT_MESSAGES) if (pattern.test(message)) return fault;
      return null;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** `sqlite_version()` of the linked engine. */
export function sqliteVersionOf(db: DatabaseSync): string {
  return (db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
}

/** The schema version recorded in the database header (`PRAGMA user_version`); 0 for a new file. */
export function schemaVersionOf(db: DatabaseSync): number {
  return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
}

const HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

/**
 * Brings the schema up to the last of `migrations`, one `BEGIN IMMEDIATE` transaction per step.
 * `PRAGMA user_version` is the version of record (it commits atomically with the step);
 * `schema_migrations` keeps the history. Refuses a database newer than `migrations` knows.
 * Returns the resulting version.
 */
export function migrate(
  db: DatabaseSync,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): number {
  const known = migrations.at(-1)?.version ?? 0;
  const found = schemaVersionOf(db);
  if (found > known) {
    throw new Error(
      `Cannot open database ${path}: schema version ${found} is newer than this build (${known})`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= found) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const now = schemaVersionOf(db);
      if (now < migration.version) {
        if (now !== migration.version - 1) {
          throw new Error(
            `Cannot migrate database ${path}: at version ${now}, next migration is ${migration.version}`,
          );
        }
        db.exec(migration.sql);
        db.exec(HISTORY_TABLE);
        db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
          .run(migration.version, migration.name, Date.now());
        db.exec(`PRAGMA user_version = ${migration.version}`);
      }
      db.exec("COMMIT");
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw new Error(
        `Cannot migrate database ${path} to version ${migration.version} (${migration.name}): ${
          messageOf(err)
        }`,
        { cause: err },
      );
    }
  }
  return schemaVersionOf(db);
}
