/** SQL for the `messages` table: stdout lines stored byte for byte. */
import type { Message } from "../models/mod.ts";
import { clampLimit } from "./agents.ts";
import type { Connection } from "./_connection.ts";

export { INSERT_MESSAGE } from "./line_sql.ts";

/** Default byte budget of one `readMessages` page: bounds memory when lines are huge. */
export const DEFAULT_READ_MAX_BYTES = 16 * 1024 * 1024;

/** Options for reading a page of messages. */
export interface ReadMessagesOptions {
  /**
   * Stop adding rows once their total `byte_length` reaches this (default 16 MiB). The first row is
   * always returned, so a page is never empty while rows remain.
   */
  maxBytes?: number;
}

const decoder = new TextDecoder("utf-8", { fatal: false });

/** The size pass of {@linkcode selectMessagesBefore} (exported for its query-plan test). */
export const SELECT_SIZES_BEFORE = `SELECT seq, byte_length FROM messages
  WHERE agent_key = ? AND seq < ? ORDER BY seq DESC LIMIT ?`;

/** Lines of agent `key` with seq > `afterSeq`, in seq order. */
export function selectMessages(
  conn: Connection,
  agentKey: number,
  agentId: string,
  afterSeq: number,
  limit: number,
  options: ReadMessagesOptions = {},
): Message[] {
  const max = clampLimit(limit, "read messages");
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    throw new RangeError(`Cannot read messages: afterSeq must be an integer >= 0, got ${afterSeq}`);
  }
  const maxBytes = options.maxBytes ?? DEFAULT_READ_MAX_BYTES;
  // First pass reads sizes only: `raw` is the last column, so its overflow pages stay on disk.
  const sizes = conn.prepare(
    "SELECT seq, byte_length FROM messages WHERE agent_key = ? AND seq > ? ORDER BY seq LIMIT ?",
  ).all(agentKey, afterSeq, max) as Array<{ seq: number; byte_length: number }>;
  if (sizes.length === 0) return [];
  let lastSeq = sizes[0]!.seq;
  let total = sizes[0]!.byte_length;
  for (let i = 1; i < sizes.length && total < maxBytes; i++) {
    total += sizes[i]!.byte_length;
    if (total > maxBytes) break;
    lastSeq = sizes[i]!.seq;
  }
  return selectRange(conn, agentKey, agentId, sizes[0]!.seq, lastSeq);
}

/**
 * The newest lines of agent `key` with seq < `beforeSeq`, in seq order: at most `limit` and, past
 * the newest, at most `options.maxBytes` bytes (the lines nearest `beforeSeq` are kept).
 */
export function selectMessagesBefore(
  conn: Connection,
  agentKey: number,
  agentId: string,
  beforeSeq: number,
  limit: number,
  options: ReadMessagesOptions = {},
): Message[] {
  const max = clampLimit(limit, "read messages");
  if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1) {
    throw new RangeError(
      `Cannot read messages: beforeSeq must be an integer >= 1, got ${beforeSeq}`,
    );
  }
  const maxBytes = options.maxBytes ?? DEFAULT_READ_MAX_BYTES;
  // Newest first, walking the (agent_key, seq) key backwards; sizes only, as above.
  const sizes = conn.prepare(SELECT_SIZES_BEFORE).all(agentKey, beforeSeq, max) as Array<
    { seq: number; byte_length: number }
  >;
  if (sizes.length === 0) return [];
  let firstSeq = sizes[0]!.seq;
  let total = sizes[0]!.byte_length;
  for (let i = 1; i < sizes.length && total < maxBytes; i++) {
    total += sizes[i]!.byte_length;
    if (total > maxBytes) break;
    firstSeq = sizes[i]!.seq;
  }
  return selectRange(conn, agentKey, agentId, firstSeq, sizes[0]!.seq);
}

/** Whether agent `key` has a line with seq < `seq`. */
export function hasMessageBefore(conn: Connection, agentKey: number, seq: number): boolean {
  return conn.prepare(
    "SELECT 1 FROM messages WHERE agent_key = ? AND seq < ? LIMIT 1",
  ).get(agentKey, seq) !== undefined;
}

/** Lines of agent `key` with `from <= seq <= to`, in seq order. */
function selectRange(
  conn: Connection,
  agentKey: number,
  agentId: string,
  from: number,
  to: number,
): Message[] {
  const rows = conn.prepare(
    `SELECT seq, ts, type, subtype, byte_length, parse_error, eof_no_newline, raw FROM messages
     WHERE agent_key = ? AND seq >= ? AND seq <= ? ORDER BY seq`,
  ).all(agentKey, from, to);
  return rows.map((r) => ({
    agent_id: agentId,
    seq: r.seq as number,
    ts: r.ts as number,
    type: r.type as string | null,
    subtype: r.subtype as string | null,
    raw: decoder.decode(r.raw as Uint8Array),
    byte_length: r.byte_length as number,
    parse_error: r.parse_error === 1,
    eof_no_newline: r.eof_no_newline === 1,
  }));
}

/** One stored line as bytes, for exports (byte for byte, never decoded). */
export interface RawLine {
  seq: number;
  ts: number;
  type: string | null;
  subtype: string | null;
  raw: Uint8Array;
  /** The line was the last of the process's stdout and had no newline. */
  eofNoNewline: boolean;
}

/** Lines of agent `key` with seq > `afterSeq` as bytes, oldest first (at most `limit`). */
export function selectRawLines(
  conn: Connection,
  agentKey: number,
  afterSeq: number,
  limit: number,
): RawLine[] {
  const max = clampLimit(limit, "read messages");
  const rows = conn.prepare(
    `SELECT seq, ts, type, subtype, eof_no_newline, raw FROM messages
     WHERE agent_key = ? AND seq > ? ORDER BY seq LIMIT ?`,
  ).all(agentKey, afterSeq, max);
  return rows.map((r) => ({
    seq: r.seq as number,
    ts: r.ts as number,
    type: r.type as string | null,
    subtype: r.subtype as string | null,
    raw: r.raw as Uint8Array,
    eofNoNewline: r.eof_no_newline === 1,
  }));
}

/** The stored bytes of one line, or undefined. */
export function selectMessageBytes(
  conn: Connection,
  agentKey: number,
  seq: number,
): Uint8Array | undefined {
  const row = conn.prepare("SELECT raw FROM messages WHERE agent_key = ? AND seq = ?").get(
    agentKey,
    seq,
  );
  return row ? row.raw as Uint8Array : undefined;
}

/** Number of stored lines of an agent. */
export function countMessageRows(conn: Connection, agentKey: number): number {
  return (conn.prepare("SELECT count(*) AS n FROM messages WHERE agent_key = ?").get(agentKey) as {
    n: number;
  }).n;
}

/** Deletes every line of an agent. */
export function deleteMessageRows(conn: Connection, agentKey: number): void {
  conn.prepare("DELETE FROM messages WHERE agent_key = ?").run(agentKey);
}
