/**
 * Read-only inspection of a database file for `hero_orchestrator doctor`: never writes, never
 * migrates, safe while the daemon runs (WAL readers do not block the writer).
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION } from "./migrations.ts";

/** What {@linkcode inspectDatabase} found. */
export interface DatabaseReport {
  sqliteVersion: string;
  /** `PRAGMA user_version` of the file. */
  schemaVersion: number;
  /** The version this build migrates to. */
  expectedSchemaVersion: number;
  journalMode: string;
  /** `PRAGMA integrity_check` rows: `["ok"]` when healthy. */
  integrity: string[];
}

/** `sqlite_version()` of the SQLite linked into this runtime (no file is opened). */
export function linkedSqliteVersion(): string {
  const db = new DatabaseSync(":memory:");
  try {
    return (db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
  } finally {
    db.close();
  }
}

/**
 * Opens `path` read-only and runs `PRAGMA integrity_check` (at most `maxErrors` rows), reading the
 * schema version and journal mode. Throws when the file cannot be opened as a database.
 */
export function inspectDatabase(
  path: string,
  options: { maxErrors?: number } = {},
): DatabaseReport {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const one = <T>(sql: string) => db.prepare(sql).get() as T;
    const limit = Math.max(1, Math.floor(options.maxErrors ?? 20));
    const rows = db.prepare(`PRAGMA integrity_check(${limit})`).all() as Array<
      { integrity_check: string }
    >;
    return {
      sqliteVersion: one<{ v: string }>("SELECT sqlite_version() AS v").v,
      schemaVersion: one<{ user_version: number }>("PRAGMA user_version").user_version,
      expectedSchemaVersion: SCHEMA_VERSION,
      journalMode: one<{ journal_mode: string }>("PRAGMA journal_mode").journal_mode,
      integrity: rows.map((r) => r.integrity_check),
    };
  } finally {
    db.close();
  }
}
