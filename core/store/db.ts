/** Opening a database file with the engine's pragmas, and running migrations. */
import { DatabaseSync } from "node:sqlite";
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
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

/** The file cannot be used as the database: empty, unreadable, not SQLite, truncated or corrupt. */
export class DatabaseFileError extends Error {
  override name = "DatabaseFileError";
  readonly code = "database_file";
}

/** Where `system.backup` and the periodic backup write, beside the database. */
export function backupDirOf(path: string): string {
  return `${dirname(path)}/backups`;
}

function restoreHint(path: string): string {
  return `stop the server and restore the newest backup (cp ${
    backupDirOf(path)
  }/db-<timestamp>.sqlite ${path}), or move ${path} away to start with an empty database`;
}

function errnoOf(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

/** SQLite's "this file is damaged" errors (SQLITE_CORRUPT, SQLITE_NOTADB). */
function isCorruption(err: unknown): boolean {
  return /malformed|not a database|corrupt/i.test(messageOf(err));
}

/** Wraps a damaged-file error with the path and what to do; other errors pass through. */
export function explainCorruption(path: string, err: unknown): unknown {
  if (!isCorruption(err) || err instanceof DatabaseFileError) return err;
  return new DatabaseFileError(
    `Cannot open database ${path}: the file is damaged (${messageOf(err)}); ${restoreHint(path)}`,
    { cause: err },
  );
}

const HEADER = new TextEncoder().encode("SQLite format 3\0");

/**
 * Refuses an existing file that cannot be this database, before SQLite sees it: SQLite treats a
 * zero-length file as a new empty database, which would silently start over with no agents.
 * Returns false when nothing is at `path`.
 */
function checkExistingFile(path: string): boolean {
  let size: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) {
      throw new DatabaseFileError(`Cannot open database ${path}: it is not a regular file`);
    }
    size = info.size;
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return false;
    if (err instanceof DatabaseFileError) throw err;
    throw new DatabaseFileError(
      `Cannot open database ${path}: ${messageOf(err)} (give the service user read and write ` +
        `access: chown it to that user, chmod 600)`,
      { cause: err },
    );
  }
  if (size === 0) {
    throw new DatabaseFileError(
      `Cannot open database ${path}: the file is empty (0 bytes), so the database was lost or ` +
        `truncated; ${restoreHint(path)}`,
    );
  }
  const head = new Uint8Array(100);
  let read = 0;
  try {
    const fd = openSync(path, "r");
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new DatabaseFileError(
      `Cannot open database ${path}: it is not readable (${messageOf(err)}); give the service ` +
        `user read and write access (chown it to that user, chmod 600)`,
      { cause: err },
    );
  }
  if (read < head.length || HEADER.some((b, i) => head[i] !== b)) {
    throw new DatabaseFileError(
      `Cannot open database ${path}: it is not a SQLite database (bad header); ${
        restoreHint(path)
      }`,
    );
  }
  // The in-header page count is valid when the change counter matches version-valid-for. A file
  // shorter than that count was cut short, unless a WAL with frames is beside it: a checkpoint
  // writes page 1 (this header) before the pages that grow the file, so a process killed in a
  // checkpoint leaves exactly this, and the WAL still holds every page (SQLite redoes it).
  const view = new DataView(head.buffer);
  const pageSize = view.getUint16(16) === 1 ? 65536 : view.getUint16(16);
  const pages = view.getUint32(28);
  if (
    pages > 0 && view.getUint32(24) === view.getUint32(92) && size < pages * pageSize &&
    !walHasFrames(path)
  ) {
    throw new DatabaseFileError(
      `Cannot open database ${path}: the file is truncated (${size} bytes, its header says ${
        pages * pageSize
      }); ${restoreHint(path)}`,
    );
  }
  return true;
}

/** Whether `path`-wal exists with at least one frame (more than its 32-byte header). */
function walHasFrames(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 32;
  } catch {
    return false;
  }
}

/**
 * Creates a new database at `path` without ever leaving a zero-length file there (which the next
 * start would refuse): the file is written (0600, WAL header) under a temporary name and linked
 * into place. Someone else creating it meanwhile wins; their file is used.
 */
function createDatabaseFile(path: string): void {
  const temp = `${path}.new-${crypto.randomUUID().slice(0, 8)}`;
  // 0600 before SQLite first opens it: SQLite gives `-wal` and `-shm` the main file's mode.
  writeFileSync(temp, "", { flag: "wx", mode: 0o600 });
  try {
    const db = new DatabaseSync(temp);
    try {
      db.exec("PRAGMA journal_mode = WAL");
    } finally {
      db.close();
    }
    try {
      linkSync(temp, path);
    } catch (err) {
      if (errnoOf(err) !== "EEXIST") throw err;
    }
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        unlinkSync(temp + suffix);
      } catch {
        // not there
      }
    }
  }
}

/**
 * Opens (creating if missing) the database at `path` in WAL mode with `synchronous=FULL`,
 * `foreign_keys=ON` and a busy timeout, after checking the SQLite version. Does not migrate.
 * An existing file that is empty, unreadable, not SQLite or truncated is refused with a
 * {@linkcode DatabaseFileError} naming the file and the fix; a new one is created only where
 * nothing exists.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): DatabaseSync {
  const busyTimeoutMs = options.busyTimeoutMs ?? MIN_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < MIN_BUSY_TIMEOUT_MS) {
    throw new RangeError(
      `Cannot open database ${path}: busyTimeoutMs must be an integer >= ${MIN_BUSY_TIMEOUT_MS}, got ${busyTimeoutMs}`,
    );
  }
  let db: DatabaseSync;
  if (path !== MEMORY && !checkExistingFile(path)) {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      createDatabaseFile(path);
    } catch (err) {
      throw new Error(`Cannot create database ${path}: ${messageOf(err)}`, { cause: err });
    }
    checkExistingFile(path);
  }
  try {
    db = new DatabaseSync(path);
  } catch (err) {
    throw explainCorruption(
      path,
      new Error(`Cannot open database ${path}: ${messageOf(err)}`, { cause: err }),
    );
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
    throw explainCorruption(path, err);
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
  let found: number;
  try {
    found = schemaVersionOf(db);
  } catch (err) {
    throw explainCorruption(path, err);
  }
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
      if (isCorruption(err)) throw explainCorruption(path, err);
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
