/** SQL for the `agents` table: rows ↔ `Agent`, patches, listing. Transactions are the caller's. */
import type { SQLInputValue } from "node:sqlite";
import {
  Agent,
  type AgentKind,
  type AgentPermissionMode,
  type AgentStatus,
  type Effort,
  errorFix,
  type Priority,
} from "../models/mod.ts";
import type { Connection } from "./_connection.ts";

/** Fields of a new agent; everything else starts at its default (status `queued`, counters 0). */
export interface NewAgent {
  id: string;
  name?: string | null;
  prompt: string;
  cwd: string;
  model: string;
  effort: Effort;
  kind: AgentKind;
  parent_id?: string | null;
  /** The home MCP service (`hero_books`); null or missing: none. */
  home_mcp?: string | null;
  /** The creator's `X-Hero-Context` header; null or missing: none. */
  hero_context?: string | null;
  /** Budget: pause once the agent's cost reaches this (USD); null or missing: none. */
  max_cost_usd?: number | null;
  /** Budget: pause once the agent's API round trips reach this; null or missing: none. */
  max_turns?: number | null;
  /** Queue order; missing: normal. */
  priority?: Priority;
  /** Epoch ms; defaults to now. */
  created_at?: number;
  /** The mode claude runs in; default bypassPermissions (nothing asks). */
  permission_mode?: AgentPermissionMode;
}

/** Internal per-agent process columns: stored on the row, never part of `Agent`. */
export interface ProcessColumns {
  /** Random marker put in the child's environment (`HERO_ORCHESTRATOR_AGENT=<id>.<marker>`). */
  proc_marker?: string | null;
  /** When the process was spawned, epoch ms. */
  proc_started_at?: number | null;
  /** Process start time as `ps -o lstart=` prints it. */
  proc_lstart?: string | null;
  /** How many times a process was spawned for this agent. */
  attempts?: number;
  /** The prompt of a queued follow-up (null once it started). */
  pending_prompt?: string | null;
  /** The claude permission mode of that follow-up. */
  pending_permission_mode?: string | null;
  /** A queued fork: the session its first process resumes under a new id (null once started). */
  fork_session_id?: string | null;
  /** The chain entry (message uuid) of `fork_session_id` the fork keeps up to and including; null: all. */
  fork_at?: string | null;
}

/**
 * Changes to an agent row. Not patchable: `id`, `created_at` (fixed), `status` (only through
 * `transition()`), `updated_at` (set on every change) and `last_seq` (owned by `MessageWriter`).
 */
export type AgentPatch =
  & Partial<Omit<Agent, "id" | "created_at" | "status" | "updated_at" | "last_seq">>
  & ProcessColumns;

/** What a sweep needs to prove a running process belongs to an agent. */
export interface ProcessRecord {
  /** Pid of the claude process (the agent's `pid`). */
  pid: number | null;
  /** Its process group (the agent's `pgid`). */
  pgid: number | null;
  /** `proc_marker`: the random part of `HERO_ORCHESTRATOR_AGENT` in the child's environment. */
  marker: string | null;
  /** `proc_started_at`: when the process was spawned, epoch ms (not the agent's `started_at`). */
  started_at: number | null;
  /** `proc_lstart`: the process start time as `ps -o lstart=` printed it. */
  lstart: string | null;
  /** `attempts`: how many processes were spawned for the agent. */
  attempts: number;
  /** A queued follow-up's prompt and permission mode. */
  pending_prompt: string | null;
  pending_permission_mode: string | null;
  /** A queued fork's source session and chain entry. */
  fork_session_id: string | null;
  fork_at: string | null;
}

/** `Agent` fields computed on read from other columns, never stored. */
const DERIVED_FIELDS: ReadonlySet<string> = new Set(["error_fix"]);
const AGENT_FIELDS: readonly string[] = Object.keys(Agent.shape);

/** Stored `Agent` field names in schema order; every one is a column of the same name. */
export const AGENT_COLUMNS: readonly string[] = AGENT_FIELDS.filter((f) => !DERIVED_FIELDS.has(f));

const BOOLEAN_COLUMNS: ReadonlySet<string> = new Set(
  AGENT_COLUMNS.filter((c) =>
    (Agent.shape as Record<string, { def: { type: string } }>)[c]!.def.type === "boolean"
  ),
);

// active_ms/active_since are kept by transition() (see activeTimeSets), never patched.
const NOT_PATCHABLE = new Set([
  "id",
  "created_at",
  "status",
  "updated_at",
  "last_seq",
  "active_ms",
  "active_since",
]);
const PATCH_COLUMNS: readonly string[] = [
  ...AGENT_COLUMNS.filter((c) => !NOT_PATCHABLE.has(c)),
  "proc_marker",
  "proc_started_at",
  "proc_lstart",
  "attempts",
  "pending_prompt",
  "pending_permission_mode",
  "fork_session_id",
  "fork_at",
];
const PATCH_COLUMN_SET: ReadonlySet<string> = new Set(PATCH_COLUMNS);

const SELECT_LIST = AGENT_COLUMNS.join(", ");

/** The `Agent` columns, comma-separated, for a SELECT or RETURNING list. */
export const AGENT_SELECT_LIST = SELECT_LIST;

/** A row as read with `SELECT agent_key, <AGENT_COLUMNS>`. */
export type AgentRow = Record<string, unknown> & { agent_key: number; id: string; status: string };

/** Maps a row to a plain `Agent` object (booleans from 0/1; no internal columns). */
export function toAgent(row: Record<string, unknown>): Agent {
  const agent: Record<string, unknown> = {};
  for (const field of AGENT_FIELDS) {
    if (field === "error_fix") agent[field] = errorFix(row.error_code as string | null);
    else agent[field] = BOOLEAN_COLUMNS.has(field) ? row[field] === 1 : row[field];
  }
  return agent as Agent;
}

/**
 * Throws a TypeError when `patch` names `status` or a field that is not patchable. Column names in
 * SQL come only from the fixed list, never from the caller's keys.
 */
export function checkPatch(patch: AgentPatch, action: string): void {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
    throw new TypeError(`Cannot ${action}: patch must be an object`);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === "status") {
      throw new TypeError(`Cannot ${action}: status changes only through transition()`);
    }
    if (!PATCH_COLUMN_SET.has(key)) {
      throw new TypeError(`Cannot ${action}: "${key}" is not a patchable agent field`);
    }
    // Checked here so one bad value fails its caller, not a whole batch of other agents' lines.
    if (value !== undefined && !validValue(key, value)) {
      throw new TypeError(`Cannot ${action}: ${JSON.stringify(value)} is not a valid ${key}`);
    }
  }
}

const PROCESS_COLUMN_CHECKS: Record<string, (v: unknown) => boolean> = {
  proc_marker: (v) => v === null || typeof v === "string",
  proc_started_at: (v) => v === null || Number.isSafeInteger(v),
  proc_lstart: (v) => v === null || typeof v === "string",
  attempts: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
  pending_prompt: (v) => v === null || typeof v === "string",
  pending_permission_mode: (v) => v === null || typeof v === "string",
  fork_session_id: (v) => v === null || typeof v === "string",
  fork_at: (v) => v === null || typeof v === "string",
};

function validValue(column: string, value: unknown): boolean {
  const processCheck = PROCESS_COLUMN_CHECKS[column];
  if (processCheck) return processCheck(value);
  const schema = (Agent.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>)[
    column
  ]!;
  return schema.safeParse(value).success;
}

/** `SET` assignments and values for the defined fields of a checked patch, in column order. */
export function patchAssignments(patch: AgentPatch): { sets: string[]; values: SQLInputValue[] } {
  const sets: string[] = [];
  const values: SQLInputValue[] = [];
  const source = patch as Record<string, unknown>;
  for (const column of PATCH_COLUMNS) {
    const value = source[column];
    if (value === undefined) continue;
    sets.push(`${column} = ?`);
    values.push(BOOLEAN_COLUMNS.has(column) ? (value ? 1 : 0) : value as SQLInputValue);
  }
  return { sets, values };
}

const NEW_AGENT_FIELDS = [
  "id",
  "name",
  "prompt",
  "cwd",
  "model",
  "effort",
  "kind",
  "parent_id",
  "home_mcp",
  "hero_context",
  "max_cost_usd",
  "max_turns",
  "priority",
  "created_at",
  "permission_mode",
] as const;
const OPTIONAL_NEW_AGENT_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "parent_id",
  "home_mcp",
  "hero_context",
  "max_cost_usd",
  "max_turns",
  "priority",
  "created_at",
  "permission_mode",
]);

/** Throws a TypeError naming the first field of `a` that the `Agent` schema refuses. */
export function checkNewAgent(a: NewAgent): void {
  const shape = Agent.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  for (const field of NEW_AGENT_FIELDS) {
    const value = a[field];
    if (value === undefined && OPTIONAL_NEW_AGENT_FIELDS.has(field)) continue;
    if (!shape[field]!.safeParse(value).success) {
      throw new TypeError(
        `Cannot insert agent "${a.id}": ${JSON.stringify(value)} is not a valid ${field}`,
      );
    }
  }
}

/** Inserts a `queued` agent; returns the new row. The caller ran {@linkcode checkNewAgent}. */
export function insertAgentRow(conn: Connection, a: NewAgent, now: number): AgentRow {
  const createdAt = a.created_at ?? now;
  return conn.prepare(
    `INSERT INTO agents (id, name, prompt, cwd, model, effort, kind, status, parent_id, home_mcp,
       hero_context, max_cost_usd, max_turns, priority, created_at, updated_at, permission_mode)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)
     RETURNING agent_key, ${SELECT_LIST}`,
  ).get(
    a.id,
    a.name ?? null,
    a.prompt,
    a.cwd,
    a.model,
    a.effort,
    a.kind,
    a.parent_id ?? null,
    a.home_mcp ?? null,
    a.hero_context ?? null,
    a.max_cost_usd ?? null,
    a.max_turns ?? null,
    a.priority ?? "normal",
    createdAt,
    createdAt,
    a.permission_mode ?? "bypassPermissions",
  ) as AgentRow;
}

/** The row of agent `id`, or undefined. */
export function selectAgentRow(conn: Connection, id: string): AgentRow | undefined {
  return conn.prepare(`SELECT agent_key, ${SELECT_LIST} FROM agents WHERE id = ?`).get(id) as
    | AgentRow
    | undefined;
}

/** The row with internal key `key`, or undefined. */
export function selectAgentRowByKey(conn: Connection, key: number): AgentRow | undefined {
  return conn.prepare(`SELECT agent_key, ${SELECT_LIST} FROM agents WHERE agent_key = ?`)
    .get(key) as AgentRow | undefined;
}

/** Internal key and status of agent `id`. */
export function selectAgentHead(
  conn: Connection,
  id: string,
): { agent_key: number; status: AgentStatus; last_seq: number } | undefined {
  return conn.prepare("SELECT agent_key, status, last_seq FROM agents WHERE id = ?").get(id) as
    | { agent_key: number; status: AgentStatus; last_seq: number }
    | undefined;
}

/**
 * Where a running stretch ends when the agent leaves `running`: `now` (the run ended just now),
 * or `last_line` — the agent's newest stored line — for runs found `running` after the daemon
 * stopped, so hours of downtime never count as active time.
 */
export type StretchEnd = "now" | "last_line";

const LAST_LINE_TS = "(SELECT ts FROM messages WHERE messages.agent_key = agents.agent_key " +
  "ORDER BY seq DESC LIMIT 1)";

/**
 * The `SET` assignments of a status change `from` → `to` at `now` (with `status = ?` first): a
 * running stretch starts on entering `running` and is added to `active_ms` on leaving it, in the
 * same statement as the status, so active time survives restarts and never double-counts.
 */
export function statusSets(
  from: AgentStatus,
  to: AgentStatus,
  now: number,
  end: StretchEnd = "now",
): { sets: string[]; values: SQLInputValue[] } {
  if (from !== "running" && to === "running") {
    return { sets: ["status = ?", "active_since = ?"], values: [to, now] };
  }
  if (from === "running" && to !== "running") {
    // The end: now, or the newest line (none, or one from an older stretch: adds nothing).
    const until = end === "now" ? "?" : `COALESCE(${LAST_LINE_TS}, 0)`;
    return {
      sets: [
        "status = ?",
        `active_ms = active_ms + MAX(0, ${until} - COALESCE(active_since, ?))`,
        "active_since = NULL",
      ],
      values: end === "now" ? [to, now, now] : [to, now],
    };
  }
  return { sets: ["status = ?"], values: [to] };
}

/**
 * Applies `extra` assignments (e.g. `status = ?`, `last_seq = ?`) plus a checked patch and
 * `updated_at` when `touch` is set; returns the updated row.
 */
export function updateAgentRow(
  conn: Connection,
  key: number,
  extra: { sets: string[]; values: SQLInputValue[] },
  patch: AgentPatch | undefined,
  updatedAt: number | undefined,
): AgentRow {
  const fromPatch = patch ? patchAssignments(patch) : { sets: [], values: [] };
  const sets = [...extra.sets, ...fromPatch.sets];
  const values = [...extra.values, ...fromPatch.values];
  if (updatedAt !== undefined) {
    sets.push("updated_at = ?");
    values.push(updatedAt);
  }
  if (sets.length === 0) return selectAgentRowByKey(conn, key)!;
  return conn.prepare(
    `UPDATE agents SET ${sets.join(", ")} WHERE agent_key = ? RETURNING agent_key, ${SELECT_LIST}`,
  ).get(...values, key) as AgentRow;
}

/** The internal process columns of agent `id`. */
export function selectProcessRecord(conn: Connection, id: string): ProcessRecord | undefined {
  const row = conn.prepare(
    `SELECT pid, pgid, proc_marker AS marker, proc_started_at AS started_at, proc_lstart AS lstart,
       attempts, pending_prompt, pending_permission_mode, fork_session_id, fork_at
       FROM agents WHERE id = ?`,
  ).get(id);
  return row ? { ...row } as unknown as ProcessRecord : undefined;
}

/** Agents in any of `statuses`, oldest first. */
export function selectAgentsByStatus(conn: Connection, statuses: readonly AgentStatus[]): Agent[] {
  if (statuses.length === 0) return [];
  return conn.prepare(
    `SELECT ${SELECT_LIST} FROM agents WHERE status IN (SELECT value FROM json_each(?))
     ORDER BY created_at, id`,
  ).all(JSON.stringify(statuses)).map(toAgent);
}

/** Query for {@linkcode selectAgentPage}. Empty or missing filters do not filter. */
export interface AgentQuery {
  cwd?: string;
  statuses?: readonly AgentStatus[];
  kinds?: readonly AgentKind[];
  /** Only children of this agent (e.g. its shadows). */
  parent_id?: string;
  /** Page size, 1 to 1000 (larger values are clamped). */
  limit: number;
  /** `next_cursor` of the previous page; null or missing for the first page. */
  cursor?: string | null;
}

/** One page of agents and the cursor of the next page (null on the last page). */
export interface AgentPage {
  agents: Agent[];
  next_cursor: string | null;
}

/** Largest page any list or read returns. */
export const MAX_PAGE = 1000;

/** Clamps a page size to 1…MAX_PAGE; non-integers are programmer errors. */
export function clampLimit(limit: number, action: string): number {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`Cannot ${action}: limit must be an integer >= 1, got ${limit}`);
  }
  return Math.min(limit, MAX_PAGE);
}

const CURSOR_PREFIX = "a1.";

function encodeCursor(id: string): string {
  const bytes = new TextEncoder().encode(id);
  const base64 = btoa(String.fromCharCode(...bytes));
  return CURSOR_PREFIX + base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): string {
  try {
    if (!cursor.startsWith(CURSOR_PREFIX)) throw new Error("bad prefix");
    const base64 = cursor.slice(CURSOR_PREFIX.length).replaceAll("-", "+").replaceAll("_", "/");
    const binary = atob(base64);
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw new RangeError(`Cannot list agents: cursor "${cursor}" is not valid`);
  }
}

/** Newest first, keyset-paginated on `id` (UUIDv7, so id order is creation order). */
export function selectAgentPage(conn: Connection, q: AgentQuery): AgentPage {
  const limit = clampLimit(q.limit, "list agents");
  const where: string[] = [];
  const values: SQLInputValue[] = [];
  if (q.cwd !== undefined) {
    where.push("cwd = ?");
    values.push(q.cwd);
  }
  if (q.statuses && q.statuses.length > 0) {
    where.push("status IN (SELECT value FROM json_each(?))");
    values.push(JSON.stringify(q.statuses));
  }
  if (q.kinds && q.kinds.length > 0) {
    where.push("kind IN (SELECT value FROM json_each(?))");
    values.push(JSON.stringify(q.kinds));
  }
  if (q.parent_id !== undefined) {
    where.push("parent_id = ?");
    values.push(q.parent_id);
  }
  if (q.cursor) {
    where.push("id < ?");
    values.push(decodeCursor(q.cursor));
  }
  const rows = conn.prepare(
    `SELECT ${SELECT_LIST} FROM agents ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY id DESC LIMIT ?`,
  ).all(...values, limit + 1);
  const agents = rows.slice(0, limit).map(toAgent);
  const next = rows.length > limit ? encodeCursor(agents[agents.length - 1]!.id) : null;
  return { agents, next_cursor: next };
}

/** One working directory agents ran in. */
export interface KnownCwd {
  cwd: string;
  /** Agents created in it. */
  count: number;
  /** `created_at` of the newest of them, epoch ms. */
  last_used_at: number;
}

/** Options of {@linkcode selectKnownCwds}. */
export interface KnownCwdsOptions {
  /** Most rows returned, 1 to 1000 (default 1000). */
  limit?: number;
  /** Agents of these kinds are not counted. */
  excludeKinds?: readonly AgentKind[];
}

/**
 * Distinct working directories with their agent counts, most recently used first, then by path.
 * Read from `agents_by_cwd_kind` alone (a covering index scan, no table rows).
 */
export function selectKnownCwds(conn: Connection, options: KnownCwdsOptions = {}): KnownCwd[] {
  const limit = clampLimit(options.limit ?? MAX_PAGE, "list working directories");
  return conn.prepare(
    `SELECT cwd, count(*) AS count, max(created_at) AS last_used_at FROM agents
     WHERE kind NOT IN (SELECT value FROM json_each(?))
     GROUP BY cwd ORDER BY last_used_at DESC, cwd LIMIT ?`,
  ).all(JSON.stringify(options.excludeKinds ?? []), limit).map((r) => ({
    cwd: r.cwd as string,
    count: r.count as number,
    last_used_at: r.last_used_at as number,
  }));
}
