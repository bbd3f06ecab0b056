/** SQL for the `approvals` table: permission prompts and their one answer. Transactions are the caller's. */
import type { Approval, ApprovalState } from "../models/mod.ts";
import type { Connection } from "./_connection.ts";
import { clampLimit } from "./agents.ts";

/** A `can_use_tool` request to store. */
export interface NewApproval {
  id: string;
  /** claude's control request id: the answer must name it. */
  request_id: string;
  /** The process the request came from. */
  proc_marker: string | null;
  tool_name: string;
  /** The tool input as claude sent it (JSON text, stored verbatim). */
  input_json: string;
  description: string | null;
  /** The permission suggestions as claude sent them (JSON text of an array). */
  suggestions_json: string;
  tool_use_id: string | null;
}

/** How an approval closes. */
export interface ApprovalAnswer {
  state: Exclude<ApprovalState, "pending">;
  answered_by: string;
  message: string | null;
  remember?: "session" | null;
}

/** The internal columns a run needs to answer claude. */
export interface ApprovalRoute {
  approval_key: number;
  agent_key: number;
  request_id: string;
  proc_marker: string | null;
  input_json: string;
  suggestions_json: string;
}

const COLUMNS = `p.approval_key, p.id, a.id AS agent_id, p.agent_key, p.request_id, p.proc_marker,
  p.tool_name, p.input, p.description, p.suggestions, p.tool_use_id, p.created_at, p.state,
  p.answered_by, p.message, p.remember, p.answered_at`;
const FROM = "FROM approvals p JOIN agents a ON a.agent_key = p.agent_key";

type Row = Record<string, unknown>;

function parseJson<T>(text: unknown, fallback: T): T {
  try {
    return JSON.parse(String(text)) as T;
  } catch {
    return fallback;
  }
}

/** A row as the API answers it. */
export function toApproval(row: Row): Approval {
  const input = parseJson<unknown>(row.input, {});
  const suggestions = parseJson<unknown>(row.suggestions, []);
  return {
    id: row.id as string,
    agent_id: row.agent_id as string,
    tool_name: row.tool_name as string,
    input: input && typeof input === "object" && !Array.isArray(input)
      ? input as Record<string, unknown>
      : {},
    description: (row.description as string | null) ?? null,
    permission_suggestions: Array.isArray(suggestions) ? suggestions : [],
    tool_use_id: (row.tool_use_id as string | null) ?? null,
    created_at: row.created_at as number,
    state: row.state as ApprovalState,
    answered_by: (row.answered_by as string | null) ?? null,
    message: (row.message as string | null) ?? null,
    remember: row.remember === "session" ? "session" : null,
    answered_at: (row.answered_at as number | null) ?? null,
  };
}

function toRoute(row: Row): ApprovalRoute {
  return {
    approval_key: row.approval_key as number,
    agent_key: row.agent_key as number,
    request_id: row.request_id as string,
    proc_marker: (row.proc_marker as string | null) ?? null,
    input_json: row.input as string,
    suggestions_json: row.suggestions as string,
  };
}

/** Inserts a pending approval of agent `agentKey`; returns its row. */
export function insertApprovalRow(
  conn: Connection,
  agentKey: number,
  a: NewApproval,
  now: number,
): Row {
  const { approval_key } = conn.prepare(
    `INSERT INTO approvals (id, agent_key, request_id, proc_marker, tool_name, input, description,
       suggestions, tool_use_id, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')
     RETURNING approval_key`,
  ).get(
    a.id,
    agentKey,
    a.request_id,
    a.proc_marker,
    a.tool_name,
    a.input_json,
    a.description,
    a.suggestions_json,
    a.tool_use_id,
    now,
  ) as { approval_key: number };
  return selectApprovalByKey(conn, approval_key)!;
}

export function selectApprovalByKey(conn: Connection, key: number): Row | undefined {
  return conn.prepare(`SELECT ${COLUMNS} ${FROM} WHERE p.approval_key = ?`).get(key) as
    | Row
    | undefined;
}

export function selectApprovalById(conn: Connection, id: string): Row | undefined {
  return conn.prepare(`SELECT ${COLUMNS} ${FROM} WHERE p.id = ?`).get(id) as Row | undefined;
}

/** The route (request id, process, input) of an approval row. */
export function routeOf(row: Row): ApprovalRoute {
  return toRoute(row);
}

/**
 * Closes a pending approval; returns the new row, or undefined when it was no longer pending (the
 * compare-and-set that makes an answer exactly-once).
 */
export function answerApprovalRow(
  conn: Connection,
  key: number,
  answer: ApprovalAnswer,
  now: number,
): Row | undefined {
  const changed = conn.prepare(
    `UPDATE approvals SET state = ?, answered_by = ?, message = ?, remember = ?, answered_at = ?
     WHERE approval_key = ? AND state = 'pending'`,
  ).run(answer.state, answer.answered_by, answer.message, answer.remember ?? null, now, key);
  return Number(changed.changes) === 1 ? selectApprovalByKey(conn, key) : undefined;
}

/** Pending approvals (of one agent when `agentKey` is given), oldest first. */
export function selectPendingKeys(conn: Connection, agentKey?: number): number[] {
  const rows = agentKey === undefined
    ? conn.prepare(
      "SELECT approval_key FROM approvals WHERE state = 'pending' ORDER BY approval_key",
    ).all()
    : conn.prepare(
      `SELECT approval_key FROM approvals WHERE state = 'pending' AND agent_key = ?
       ORDER BY approval_key`,
    ).all(agentKey);
  return rows.map((r) => (r as { approval_key: number }).approval_key);
}

/** Approvals, newest first, filtered by agent and state; at most `limit` (clamped to 1000). */
export function selectApprovals(
  conn: Connection,
  q: { agentKey?: number; state?: ApprovalState; limit: number },
): Approval[] {
  const where: string[] = [];
  const values: (string | number)[] = [];
  if (q.agentKey !== undefined) {
    where.push("p.agent_key = ?");
    values.push(q.agentKey);
  }
  if (q.state !== undefined) {
    where.push("p.state = ?");
    values.push(q.state);
  }
  const rows = conn.prepare(
    `SELECT ${COLUMNS} ${FROM} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY p.approval_key DESC LIMIT ?`,
  ).all(...values, clampLimit(q.limit, "list approvals")) as Row[];
  return rows.map(toApproval);
}

/** Deletes an agent's approvals (the agent is being deleted). */
export function deleteApprovalRows(conn: Connection, agentKey: number): void {
  conn.prepare("DELETE FROM approvals WHERE agent_key = ?").run(agentKey);
}
