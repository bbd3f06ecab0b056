/**
 * Internal: one `MessageWriter` batch as one transaction. The same code runs on the event loop
 * (inline writers) and in the writer's worker thread, so both store a batch identically. The
 * worker may read only the modules the daemon's permissions name (`core/store`), so this module
 * and what it imports stay free of `core/models` and npm packages: patches arrive as ready `SET`
 * assignments and agent rows leave raw (the event loop turns them into `Agent`s).
 */
import type { SQLInputValue } from "node:sqlite";
import { type Connection, rollback } from "./_connection.ts";
import { type StorageFault, storageFaultOf } from "./db.ts";
import { messageOf } from "./errors.ts";
import { INSERT_EVENT, INSERT_MESSAGE } from "./line_sql.ts";
import type { WriteLockCell } from "./write_lock.ts";

/** One line to store, without its agent patch (patches come per agent, merged). */
export interface LineToStore {
  agentId: string;
  bytes: Uint8Array;
  ts: number;
  type: string | null;
  subtype: string | null;
  parseError: boolean;
  eofNoNewline: boolean;
}

/** `SET` assignments (and their values) of one agent's merged patch. */
export interface PatchAssignments {
  sets: string[];
  values: SQLInputValue[];
}

/** A batch as its transaction needs it. */
export interface CommitRequest {
  lines: LineToStore[];
  /** Per agent id, its lines' merged patch. */
  patches: Array<[string, PatchAssignments]>;
  /** The agent columns to return (`agent_key` is added). */
  selectList: string;
}

/** A line's seq and event id. */
export interface LineResult {
  seq: number;
  eventId: number;
}

/**
 * What a batch's transaction did: committed (per line its seq and event id, or null for a line
 * whose agent was deleted meanwhile; the raw agent rows it changed), or rolled back with the
 * storage fault that may pass by itself (null for any other error) and the error's message.
 */
export type BatchOutcome =
  | {
    ok: true;
    results: Array<LineResult | null>;
    rows: Array<Record<string, unknown>>;
    agentEventIds: Array<[string, number]>;
    /** How long the transaction took, BEGIN to COMMIT (where it ran, not the hand-off). */
    costMs: number;
  }
  | { ok: false; fault: StorageFault | null; message: string };

const SELECT_HEAD = "SELECT agent_key, last_seq FROM agents WHERE id = ?";

/**
 * Stores `request` in one `BEGIN IMMEDIATE` transaction on `conn`: each line gets the next seq of
 * its agent and a `message` event, each touched agent its `last_seq`, its patch and `updated_at`
 * (plus an `agent` event when patched). Never throws: a failure rolls back and is returned.
 * `beforeCommit` (a test hook) runs just before COMMIT; its throw fails the batch. `lock` (the
 * writer's thread) is marked held from BEGIN until the transaction ended.
 */
export function commitBatch(
  conn: Connection,
  request: CommitRequest,
  beforeCommit?: () => void,
  lock?: WriteLockCell,
): BatchOutcome {
  const results: Array<LineResult | null> = [];
  const rows: Array<Record<string, unknown>> = [];
  const agentEventIds: Array<[string, number]> = [];
  const patches = new Map(request.patches);
  const started = performance.now();
  try {
    conn.db.exec("BEGIN IMMEDIATE");
    lock?.held();
    // Cached on the connection: prepared once, reused by every batch.
    const insertMessage = conn.prepare(INSERT_MESSAGE);
    const insertEvent = conn.prepare(INSERT_EVENT);
    const selectHead = conn.prepare(SELECT_HEAD);
    const now = Date.now();
    const touched = new Map<string, { key: number; seq: number } | null>();
    for (const line of request.lines) {
      let agent = touched.get(line.agentId);
      if (agent === undefined) {
        const head = selectHead.get(line.agentId) as
          | { agent_key: number; last_seq: number }
          | undefined;
        agent = head ? { key: head.agent_key, seq: head.last_seq } : null;
        touched.set(line.agentId, agent);
      }
      if (agent === null) {
        // Deleted after it was appended to: fail its lines only, not the batch.
        results.push(null);
        continue;
      }
      const seq = ++agent.seq;
      const { bytes } = line;
      insertMessage.run(
        agent.key,
        seq,
        line.ts,
        line.type,
        line.subtype,
        bytes.byteLength,
        line.parseError ? 1 : 0,
        line.eofNoNewline ? 1 : 0,
        bytes,
      );
      const eventId = Number(insertEvent.run(now, "message", agent.key, seq).lastInsertRowid);
      results.push({ seq, eventId });
    }
    for (const [agentId, agent] of touched) {
      if (agent === null) continue;
      const patch = patches.get(agentId);
      const sets = ["last_seq = ?", ...(patch?.sets ?? [])];
      const values: SQLInputValue[] = [agent.seq, ...(patch?.values ?? [])];
      if (patch) {
        sets.push("updated_at = ?");
        values.push(now);
      }
      const row = conn.prepare(
        `UPDATE agents SET ${sets.join(", ")} WHERE agent_key = ?
         RETURNING agent_key, ${request.selectList}`,
      ).get(...values, agent.key) as Record<string, unknown>;
      rows.push({ ...row });
      if (patch) {
        const id = Number(insertEvent.run(now, "agent", agent.key, null).lastInsertRowid);
        agentEventIds.push([agentId, id]);
      }
    }
    beforeCommit?.();
    conn.db.exec("COMMIT");
  } catch (cause) {
    rollback(conn.db);
    return { ok: false, fault: storageFaultOf(cause), message: messageOf(cause) };
  } finally {
    lock?.released();
  }
  return { ok: true, results, rows, agentEventIds, costMs: performance.now() - started };
}
