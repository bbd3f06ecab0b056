/** Internal: the part of `Store` every entity shares: the connection, transactions, lifecycle. */
import type { DatabaseSync } from "node:sqlite";
import { attachConnection, Connection, connectionOf } from "./_connection.ts";
import { schemaVersionOf, sqliteVersionOf } from "./db.ts";
import { selectAgentHead } from "./agents.ts";
import { AgentNotFoundError } from "./errors.ts";
import { type OnStoreCommit, Outbox } from "./outbox.ts";

/** The connection of a store (each layer of `Store` keeps its own private reference). */
export { connectionOf };

/** The `agent_key` of agent `agentId`. */
export function agentKeyOf(conn: Connection, agentId: string): number {
  const head = selectAgentHead(conn, agentId);
  if (!head) throw new AgentNotFoundError(agentId);
  return head.agent_key;
}

/** The base of `Store`: one connection, its transactions and lifecycle. */
export class StoreCore {
  /** The database file. */
  readonly path: string;
  #conn: Connection;
  #closed = false;

  /** @internal Use `openStore`. */
  constructor(path: string, db: DatabaseSync, onCommit?: OnStoreCommit) {
    this.path = path;
    this.#conn = new Connection(db, new Outbox(onCommit));
    attachConnection(this, this.#conn);
  }

  /** The schema version of the open database. */
  schemaVersion(): number {
    return schemaVersionOf(this.#conn.db);
  }

  /** The linked SQLite library's version. */
  sqliteVersion(): string {
    return sqliteVersionOf(this.#conn.db);
  }

  /** `PRAGMA integrity_check`: `"ok"` when the file is sound, else the problems, one per line. */
  integrityCheck(): string {
    return this.#conn.db.prepare("PRAGMA integrity_check").all()
      .map((r) => String(r.integrity_check)).join("\n");
  }

  /** Copies the WAL into the database and truncates it (`PRAGMA wal_checkpoint(TRUNCATE)`). */
  checkpoint(): void {
    this.#conn.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /** Checkpoints, then closes. Idempotent. Close the `MessageWriter` first: its queued lines need the store. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.checkpoint();
    } finally {
      this.#conn.db.close();
    }
  }

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction: COMMIT when it returns, ROLLBACK when it throws.
   * `fn` must be synchronous. Store methods called inside join the transaction; `write()` itself does
   * not nest. Everything the transaction changed reaches the store's `onCommit` once, after COMMIT.
   */
  write<T>(fn: () => T): T {
    if (this.#conn.db.isTransaction) {
      throw new Error(
        "Cannot begin a write transaction: one is already open (write() does not nest)",
      );
    }
    return this.#conn.immediate(fn);
  }
}
