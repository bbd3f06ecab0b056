/** SQL for the `events` table: the durable, ordered change log behind SSE ids. */
import type { Connection } from "./_connection.ts";
import { clampLimit } from "./agents.ts";
import { INSERT_EVENT } from "./line_sql.ts";

/** What an event reports: an agent row changed, a line was stored, or an agent was deleted. */
export type EventKind = "agent" | "message" | "agent_deleted" | "approval";

/** One change-log entry. `id` only grows (AUTOINCREMENT: never reused, even after deletes). */
export interface StoredEvent {
  id: number;
  /** When the change committed, epoch ms. */
  ts: number;
  kind: EventKind;
  agent_id: string;
  /** The line's seq for `message` events, the approval's key for `approval` events; else null. */
  seq: number | null;
}

/**
 * `agent_key` of `agent_deleted` events. No agent has it (keys start at 1), so a later agent that
 * reuses the deleted agent's key never shows the tombstone as its own.
 */
const TOMBSTONE_KEY = 0;

export { INSERT_EVENT } from "./line_sql.ts";

/** Appends an event in the caller's transaction; returns its id. */
export function insertEvent(
  conn: Connection,
  ts: number,
  kind: EventKind,
  agentKey: number,
  seq: number | null,
): number {
  return Number(conn.prepare(INSERT_EVENT).run(ts, kind, agentKey, seq).lastInsertRowid);
}

/**
 * Appends the `agent_deleted` event of agent `agentId` in the caller's transaction (which deletes
 * the agent's other events); returns its id.
 */
export function insertTombstone(conn: Connection, ts: number, agentId: string): number {
  return Number(
    conn.prepare(
      "INSERT INTO events (ts, kind, agent_key, seq, agent_id) VALUES (?, 'agent_deleted', ?, NULL, ?)",
    ).run(ts, TOMBSTONE_KEY, agentId).lastInsertRowid,
  );
}

function checkAfterId(afterId: number): void {
  if (!Number.isSafeInteger(afterId) || afterId < 0) {
    throw new RangeError(`Cannot read events: afterId must be an integer >= 0, got ${afterId}`);
  }
}

/**
 * Events with id > `afterId`, oldest first; only those of one agent when `agentKey` is given (an
 * existing agent's, so never a tombstone). A tombstone names its agent itself: the row is gone.
 */
export function selectEvents(
  conn: Connection,
  afterId: number,
  limit: number,
  agentKey?: number,
): StoredEvent[] {
  checkAfterId(afterId);
  const max = clampLimit(limit, "read events");
  const rows = agentKey === undefined
    ? conn.prepare(
      `SELECT e.id, e.ts, e.kind, coalesce(a.id, e.agent_id) AS agent_id, e.seq FROM events e
       LEFT JOIN agents a ON a.agent_key = e.agent_key
       WHERE e.id > ? AND (a.id IS NOT NULL OR e.agent_id IS NOT NULL) ORDER BY e.id LIMIT ?`,
    ).all(afterId, max)
    : conn.prepare(
      `SELECT e.id, e.ts, e.kind, a.id AS agent_id, e.seq FROM events e
       JOIN agents a ON a.agent_key = e.agent_key
       WHERE e.agent_key = ? AND e.id > ? ORDER BY e.id LIMIT ?`,
    ).all(agentKey, afterId, max);
  return rows.map((r) => ({
    id: r.id as number,
    ts: r.ts as number,
    kind: r.kind as EventKind,
    agent_id: r.agent_id as string,
    seq: r.seq as number | null,
  }));
}

/** The highest event id ever assigned (0 when none). */
export function selectLastEventId(conn: Connection): number {
  const row = conn.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get();
  return row ? row.seq as number : 0;
}

/** Deletes every event of an agent. */
export function deleteEventRows(conn: Connection, agentKey: number): void {
  conn.prepare("DELETE FROM events WHERE agent_key = ?").run(agentKey);
}
