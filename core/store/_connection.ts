/** Internal: a database handle with a statement cache and the write-transaction helper. */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { storageFaultOf } from "./db.ts";
import { messageOf, StorageUnavailableError, StoreBusyError } from "./errors.ts";
import { Outbox } from "./outbox.ts";
import type { WriteLockCell } from "./write_lock.ts";

/** One open database plus its prepared statements; shared by `Store` and `MessageWriter`. */
export class Connection {
  readonly db: DatabaseSync;
  /** Changes of the open `immediate()` transaction, delivered after its COMMIT. */
  readonly outbox: Outbox;
  #statements = new Map<string, StatementSync>();
  /** The line writer's thread's hold on the write lock, when it runs on this database. */
  #writer: { lock: WriteLockCell; waitMs: number } | undefined;

  constructor(db: DatabaseSync, outbox: Outbox = new Outbox()) {
    this.db = db;
    this.outbox = outbox;
  }

  /**
   * The line writer's thread commits on this database and marks its hold in `lock`: a write here
   * then waits out the writer's commit (at most `waitMs`) instead of failing with `busy` after
   * the connection's short busy_timeout, which is meant for other processes' locks only.
   * `undefined` forgets it (the thread ended).
   */
  shareWriteLock(lock: WriteLockCell | undefined, waitMs = 0): void {
    this.#writer = lock === undefined ? undefined : { lock, waitMs };
  }

  /** A cached prepared statement for `sql` (the text is the cache key). */
  prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction: COMMIT on return, ROLLBACK on throw. Inside an open
   * transaction `fn` joins it, so store methods compose inside `Store.write()`. The outbox is
   * delivered after the outermost COMMIT returned and emptied on ROLLBACK.
   * IMMEDIATE takes the write lock up front: a deferred read-then-write transaction can fail with
   * SQLITE_BUSY regardless of busy_timeout. A lock another connection holds past busy_timeout
   * throws a {@linkcode StoreBusyError} (code `busy`; the SQLite error is its cause); a full disk
   * or an I/O error during the transaction a {@linkcode StorageUnavailableError} (also `busy`).
   */
  immediate<T>(fn: () => T): T {
    const db = this.db;
    if (db.isTransaction) return fn();
    this.#begin();
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) {
        // The lock would be held across awaits while other code writes into this transaction.
        result.catch(() => {});
        throw new TypeError("Cannot run a write transaction: fn must be synchronous");
      }
      db.exec("COMMIT");
    } catch (err) {
      rollback(db);
      this.outbox.rolledBack();
      throw typedFault(err);
    }
    this.outbox.committed();
    return result;
  }

  /**
   * BEGIN IMMEDIATE. While our own writer's thread holds the lock, waits for its commit to end
   * (woken as it ends); the writer cannot start another meanwhile, since batches are handed to it
   * from this (blocked) thread. A lock held past busy_timeout by anyone else is `busy`.
   */
  #begin(): void {
    const writer = this.#writer;
    const deadline = performance.now() + (writer?.waitMs ?? 0);
    for (;;) {
      writer?.lock.waitReleased(deadline - performance.now());
      try {
        this.db.exec("BEGIN IMMEDIATE");
        return;
      } catch (err) {
        if (storageFaultOf(err) !== "busy") throw err;
        // The writer took the lock just before us and is still committing: wait for it.
        if (writer?.lock.isHeld() && performance.now() < deadline) continue;
        throw new StoreBusyError(
          `Cannot write to the database: another connection holds its lock (${messageOf(err)})`,
          { cause: err },
        );
      }
    }
  }
}

/**
 * A disk-full or I/O error as a typed {@linkcode StorageUnavailableError}, so callers (and RPC
 * clients) can tell "storage failed, try again" from a bug; any other error as it is.
 */
function typedFault(err: unknown): unknown {
  const fault = storageFaultOf(err);
  if ((fault !== "full" && fault !== "io") || err instanceof StorageUnavailableError) return err;
  const what = fault === "full" ? "the disk is full" : "the device reported an I/O error";
  return new StorageUnavailableError(
    fault,
    `Cannot write to the database: ${what} (${
      messageOf(err)
    }); nothing was stored, try again later`,
    { cause: err },
  );
}

/** ROLLBACK if a transaction is still open (SQLite may already have rolled back, e.g. on SQLITE_FULL). */
export function rollback(db: DatabaseSync): void {
  if (!db.isOpen || !db.isTransaction) return;
  try {
    db.exec("ROLLBACK");
  } catch {
    // Nothing more to undo; the original error is what the caller needs.
  }
}

const CONNECTIONS = new WeakMap<object, Connection>();

/** Links a `Store` to its connection without exposing it on the public class. */
export function attachConnection(owner: object, connection: Connection): void {
  CONNECTIONS.set(owner, connection);
}

/** The connection behind a `Store`. */
export function connectionOf(owner: object): Connection {
  const connection = CONNECTIONS.get(owner);
  if (!connection) throw new TypeError("Cannot use store: not created by openStore()");
  return connection;
}
