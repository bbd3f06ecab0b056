/**
 * SQL of imported Claude Code sessions: one agent (kind `imported`) per session file, its lines
 * appended in batches, and a per-file byte watermark (`session_imports`) moved in the same
 * transaction as the lines it covers, so a re-import reads only what was appended since and never
 * stores a line twice.
 * @module
 */
import type { Agent } from "../models/mod.ts";
import { type AgentPatch, type AgentRow, toAgent, updateAgentRow } from "./agents.ts";
import { connectionOf } from "./_store_core.ts";
import type { Connection } from "./_connection.ts";
import { insertEvent } from "./events.ts";
import { INSERT_MESSAGE } from "./messages.ts";
import type { Store } from "./store.ts";

/** Where the import of one session file stands. */
export interface ImportedFile {
  path: string;
  /** Null once the imported agent was deleted (the file is then left alone). */
  agent_id: string | null;
  session_id: string;
  /** Bytes of the file taken in (up to the end of the last complete line). */
  byte_offset: number;
  /** Lines stored, and malformed lines skipped, so far. */
  lines: number;
  malformed: number;
  updated_at: number;
}

/** One line of a session file to store. */
export interface ImportedLine {
  bytes: Uint8Array;
  /** The line's own timestamp, else the import time; epoch ms. */
  ts: number;
  type: string | null;
  subtype: string | null;
}

/** A batch of one file's lines, and where the file stands after them. */
export interface ImportBatch {
  path: string;
  sessionId: string;
  /** The watermark the batch starts at: it must equal the stored one (0 for a new file). */
  fromOffset: number;
  toOffset: number;
  lines: ImportedLine[];
  /** Malformed lines skipped in this batch. */
  malformed: number;
  /** The agent to create when the file is new. */
  create: { id: string; name: string; prompt: string; cwd: string; model: string; ts: number };
  /** Agent fields learnt from this batch (model, cost, times). */
  patch: AgentPatch;
}

/** The stored watermark moved under the importer: another import of the same file ran. */
export class ImportConflictError extends Error {
  override name = "ImportConflictError";
  readonly code = "invalid_state";
}

/** The import state of `path`, or undefined when it was never imported. */
export function importedFile(store: Store, path: string): ImportedFile | undefined {
  const row = connectionOf(store).prepare(
    `SELECT i.path, a.id AS agent_id, i.session_id, i.byte_offset, i.lines, i.malformed,
       i.updated_at FROM session_imports i LEFT JOIN agents a ON a.agent_key = i.agent_key
     WHERE i.path = ?`,
  ).get(path);
  return row ? { ...row } as unknown as ImportedFile : undefined;
}

/**
 * Stores a batch in one transaction: creates the agent for a new file (status `completed`: a
 * finished transcript with no process, so it sits with the history and never in a review lane),
 * appends the lines after its `last_seq`, applies `patch` and moves the watermark.
 * @throws {ImportConflictError} when the stored watermark is not `batch.fromOffset`.
 */
export function commitImportBatch(store: Store, batch: ImportBatch): Agent {
  const conn = connectionOf(store);
  return conn.immediate(() => {
    const now = Date.now();
    const state = conn.prepare(
      `SELECT i.agent_key, i.byte_offset, a.last_seq FROM session_imports i
       LEFT JOIN agents a ON a.agent_key = i.agent_key WHERE i.path = ?`,
    ).get(batch.path) as
      | { agent_key: number | null; byte_offset: number; last_seq: number | null }
      | undefined;
    if (state && state.agent_key === null) {
      throw new ImportConflictError(`Cannot import "${batch.path}": its agent was deleted`);
    }
    if ((state?.byte_offset ?? 0) !== batch.fromOffset) {
      throw new ImportConflictError(
        `Cannot import "${batch.path}": it changed under this import (another import ran)`,
      );
    }
    let key: number;
    let seq: number;
    if (state) {
      key = state.agent_key!;
      seq = state.last_seq!;
    } else {
      const c = batch.create;
      const row = conn.prepare(
        `INSERT INTO agents (id, name, prompt, cwd, model, effort, kind, status, session_id,
           created_at, updated_at, started_at, finished_at)
         VALUES (?, ?, ?, ?, ?, 'none', 'imported', 'completed', ?, ?, ?, ?, ?)
         RETURNING agent_key`,
      ).get(c.id, c.name, c.prompt, c.cwd, c.model, batch.sessionId, c.ts, now, c.ts, c.ts) as {
        agent_key: number;
      };
      key = row.agent_key;
      seq = 0;
      conn.prepare(
        `INSERT INTO session_imports (path, agent_key, session_id, byte_offset, lines, malformed,
           updated_at) VALUES (?, ?, ?, 0, 0, 0, ?)`,
      ).run(batch.path, key, batch.sessionId, now);
    }
    const insert = conn.prepare(INSERT_MESSAGE);
    for (const line of batch.lines) {
      insert.run(
        key,
        ++seq,
        line.ts,
        line.type,
        line.subtype,
        line.bytes.byteLength,
        0,
        0,
        line.bytes,
      );
    }
    conn.prepare(
      `UPDATE session_imports SET byte_offset = ?, lines = lines + ?, malformed = malformed + ?,
         updated_at = ? WHERE path = ?`,
    ).run(batch.toOffset, batch.lines.length, batch.malformed, now, batch.path);
    const row = updateAgentRow(
      conn,
      key,
      { sets: ["last_seq = ?"], values: [seq] },
      batch.patch,
      now,
    );
    const agent = toAgent(row as AgentRow);
    conn.outbox.add({ kind: "agent", id: insertEvent(conn, now, "agent", key, null), agent });
    return agent;
  });
}

/**
 * Commits several files' batches in ONE transaction: a tree of many small sessions costs one
 * fsync per group instead of one per file. Any failure rolls back the whole group.
 */
export function commitImportBatches(store: Store, batches: readonly ImportBatch[]): Agent[] {
  return connectionOf(store).immediate(() => batches.map((b) => commitImportBatch(store, b)));
}

/** The import state of the file imported agent `agentId` came from, or undefined. */
export function importedFileOfAgent(store: Store, agentId: string): ImportedFile | undefined {
  const row = connectionOf(store).prepare(
    `SELECT i.path, a.id AS agent_id, i.session_id, i.byte_offset, i.lines, i.malformed,
       i.updated_at FROM session_imports i JOIN agents a ON a.agent_key = i.agent_key
     WHERE a.id = ?`,
  ).get(agentId);
  return row ? { ...row } as unknown as ImportedFile : undefined;
}

/** Whether a supervised (not imported) agent owns claude session `sessionId`. */
export function isSupervisedSession(store: Store, sessionId: string): boolean {
  return connectionOf(store).prepare(
    "SELECT 1 FROM agents WHERE session_id = ? AND kind != 'imported' LIMIT 1",
  ).get(sessionId) !== undefined;
}

/**
 * The newest supervised (not imported) agent that owns claude session `sessionId`: an imported
 * session's continuation once one was started. Undefined when none does.
 */
export function supervisedAgentOfSession(store: Store, sessionId: string): string | undefined {
  const row = connectionOf(store).prepare(
    `SELECT id FROM agents WHERE session_id = ? AND kind != 'imported'
     ORDER BY created_at DESC, agent_key DESC LIMIT 1`,
  ).get(sessionId) as { id: string } | undefined;
  return row?.id;
}

/** In the caller's transaction: forgets agent `agentKey` in the import table (it is being deleted). */
export function detachImportRows(conn: Connection, agentKey: number): void {
  conn.prepare("UPDATE session_imports SET agent_key = NULL WHERE agent_key = ?").run(agentKey);
}
