/**
 * SQL for the quota proxy and usage telemetry: per-agent proxy tokens (hashes only), rate-limit
 * snapshots, per-agent proxy tallies, the per-turn usage ledger and OAuth usage polls.
 * Transactions are the caller's.
 */
import type { SQLInputValue } from "node:sqlite";
import type { AgentKind, AgentStatus } from "../models/mod.ts";
import type { Connection } from "./_connection.ts";

/** A stored proxy token, joined with its agent. Only the hash is ever stored. */
export interface ProxyTokenRecord {
  /** Lower-case hex SHA-256 of the token. */
  token_hash: string;
  agent_id: string;
  agent_kind: AgentKind;
  agent_status: AgentStatus;
  /** The agent's pause (set as soon as a pause begins, before its process is gone). */
  pause_reason: string | null;
  max_cost_usd: number | null;
  total_cost_usd: number;
  max_turns: number | null;
  num_turns: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** One upstream response's `anthropic-ratelimit-*` headers, as the proxy saw them. */
export interface RateLimitSnapshotInput {
  ts: number;
  /** The agent the request was made for; null when it could not be attributed. */
  agent_id: string | null;
  method: string;
  path: string;
  status: number;
  request_id: string | null;
  /** Lower-case header name → value, only `anthropic-ratelimit-*` (and `retry-after`). */
  headers: Record<string, string>;
}

/** A stored snapshot. */
export interface RateLimitSnapshot extends RateLimitSnapshotInput {
  id: number;
}

/** What one proxied request adds to its agent's tally. */
export interface ProxyTallyDelta {
  agent_id: string;
  ts: number;
  status: number;
  /** 1 when the upstream answered non-2xx or could not be reached. */
  error: boolean;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  bytes_in: number;
  bytes_out: number;
}

/** Per-agent figures the proxy saw on the wire. */
export interface ProxyTally {
  agent_id: string;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  bytes_in: number;
  bytes_out: number;
  first_at: number;
  last_at: number;
  last_status: number | null;
}

/** One turn's token and cost deltas, from the CLI's `result` line. */
export interface TurnUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  cost_usd: number;
}

/** One reading of the OAuth usage endpoint. */
export interface OauthPollInput {
  ts: number;
  ok: boolean;
  http_status: number | null;
  /** The response body (JSON text) when there was one. */
  body: string | null;
  error: string | null;
}

export interface OauthPoll extends OauthPollInput {
  id: number;
}

/** Usage summed over a period. */
export interface UsageSums {
  turns: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  cost_usd: number;
}

/** Usage of one agent over a period. */
/** Sums of a period with nothing in it. */
export const ZERO_USAGE_SUMS: Readonly<UsageSums> = Object.freeze({
  turns: 0,
  input_tokens: 0,
  output_tokens: 0,
  cache_read_tokens: 0,
  cache_creation_tokens: 0,
  cost_usd: 0,
});

export interface AgentUsage extends UsageSums {
  agent_id: string | null;
  name: string | null;
  kind: string | null;
  model: string | null;
  parent_id: string | null;
}

/** One bucket of a usage time series. */
export interface UsageBucket extends UsageSums {
  /** Bucket start, epoch ms. */
  start: number;
}

function keyOf(conn: Connection, agentId: string): number | undefined {
  const row = conn.prepare("SELECT agent_key FROM agents WHERE id = ?").get(agentId);
  return row ? row.agent_key as number : undefined;
}

/** Stores a token hash for agent `agentKey`. */
export function insertProxyTokenRow(
  conn: Connection,
  agentKey: number,
  tokenHash: string,
  createdAt: number,
  expiresAt: number,
): void {
  conn.prepare(
    `INSERT INTO proxy_tokens (token_hash, agent_key, created_at, expires_at) VALUES (?, ?, ?, ?)`,
  ).run(tokenHash, agentKey, createdAt, expiresAt);
}

/** The token with this hash and its agent, or undefined. */
export function selectProxyToken(
  conn: Connection,
  tokenHash: string,
): ProxyTokenRecord | undefined {
  const row = conn.prepare(
    `SELECT t.token_hash, a.id AS agent_id, a.kind AS agent_kind, a.status AS agent_status,
       a.pause_reason, a.max_cost_usd, a.total_cost_usd, a.max_turns, a.num_turns, t.created_at, t.expires_at, t.revoked_at
     FROM proxy_tokens t JOIN agents a ON a.agent_key = t.agent_key WHERE t.token_hash = ?`,
  ).get(tokenHash);
  return row ? { ...row } as unknown as ProxyTokenRecord : undefined;
}

/** Revokes every live token of one agent; returns how many. */
export function revokeProxyTokenRows(conn: Connection, agentKey: number, now: number): number {
  return Number(
    conn.prepare(
      "UPDATE proxy_tokens SET revoked_at = ? WHERE agent_key = ? AND revoked_at IS NULL",
    ).run(now, agentKey).changes,
  );
}

/** Revokes every live token; returns how many. */
export function revokeAllProxyTokenRows(conn: Connection, now: number): number {
  return Number(
    conn.prepare("UPDATE proxy_tokens SET revoked_at = ? WHERE revoked_at IS NULL").run(now)
      .changes,
  );
}

/** Deletes the proxy rows of an agent (tokens, tally). The ledger and snapshots stay. */
export function deleteProxyRows(conn: Connection, agentKey: number): void {
  conn.prepare("DELETE FROM proxy_tokens WHERE agent_key = ?").run(agentKey);
  conn.prepare("DELETE FROM proxy_tallies WHERE agent_key = ?").run(agentKey);
}

/** Inserts snapshots and adds tallies (rows of deleted agents are dropped). */
export function insertProxyRecords(
  conn: Connection,
  snapshots: readonly RateLimitSnapshotInput[],
  tallies: readonly ProxyTallyDelta[],
): void {
  const insert = conn.prepare(
    `INSERT INTO usage_snapshots (ts, agent_key, method, path, status, request_id, headers)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const s of snapshots) {
    const key = s.agent_id === null ? null : keyOf(conn, s.agent_id) ?? null;
    insert.run(s.ts, key, s.method, s.path, s.status, s.request_id, JSON.stringify(s.headers));
  }
  const upsert = conn.prepare(
    `INSERT INTO proxy_tallies (agent_key, requests, errors, input_tokens, output_tokens,
       cache_read_tokens, cache_creation_tokens, bytes_in, bytes_out, first_at, last_at, last_status)
     VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (agent_key) DO UPDATE SET requests = requests + 1, errors = errors + excluded.errors,
       input_tokens = input_tokens + excluded.input_tokens,
       output_tokens = output_tokens + excluded.output_tokens,
       cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
       cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
       bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
       last_at = max(last_at, excluded.last_at), last_status = excluded.last_status`,
  );
  for (const t of tallies) {
    const key = keyOf(conn, t.agent_id);
    if (key === undefined) continue;
    upsert.run(
      key,
      t.error ? 1 : 0,
      t.input_tokens,
      t.output_tokens,
      t.cache_read_tokens,
      t.cache_creation_tokens,
      t.bytes_in,
      t.bytes_out,
      t.ts,
      t.ts,
      t.status,
    );
  }
}

function toSnapshot(row: Record<string, unknown>): RateLimitSnapshot {
  let headers: Record<string, string> = {};
  try {
    headers = JSON.parse(row.headers as string);
  } catch {
    // unreadable row: report it without headers
  }
  return {
    id: row.id as number,
    ts: row.ts as number,
    agent_id: row.agent_id as string | null,
    method: row.method as string,
    path: row.path as string,
    status: row.status as number,
    request_id: row.request_id as string | null,
    headers,
  };
}

const SNAPSHOT_SELECT = `SELECT s.id, s.ts, a.id AS agent_id, s.method, s.path, s.status,
  s.request_id, s.headers FROM usage_snapshots s LEFT JOIN agents a ON a.agent_key = s.agent_key`;

/** The newest snapshots first, optionally of one agent. */
export function selectSnapshots(
  conn: Connection,
  limit: number,
  agentId?: string,
): RateLimitSnapshot[] {
  if (agentId === undefined) {
    return conn.prepare(`${SNAPSHOT_SELECT} ORDER BY s.id DESC LIMIT ?`).all(limit).map(
      toSnapshot,
    );
  }
  const key = keyOf(conn, agentId);
  if (key === undefined) return [];
  return conn.prepare(`${SNAPSHOT_SELECT} WHERE s.agent_key = ? ORDER BY s.id DESC LIMIT ?`)
    .all(key, limit).map(toSnapshot);
}

/** Deletes snapshots older than `before`; returns how many. */
export function deleteSnapshotsBefore(conn: Connection, before: number): number {
  return Number(conn.prepare("DELETE FROM usage_snapshots WHERE ts < ?").run(before).changes);
}

/** The proxy tally of one agent, or undefined. */
export function selectProxyTally(conn: Connection, agentId: string): ProxyTally | undefined {
  const row = conn.prepare(
    `SELECT a.id AS agent_id, t.requests, t.errors, t.input_tokens, t.output_tokens,
       t.cache_read_tokens, t.cache_creation_tokens, t.bytes_in, t.bytes_out, t.first_at,
       t.last_at, t.last_status
     FROM proxy_tallies t JOIN agents a ON a.agent_key = t.agent_key WHERE a.id = ?`,
  ).get(agentId);
  return row ? { ...row } as unknown as ProxyTally : undefined;
}

/** Appends one turn's usage to the ledger. */
export function insertLedgerRow(
  conn: Connection,
  agentKey: number,
  ts: number,
  usage: TurnUsage,
): void {
  conn.prepare(
    `INSERT INTO usage_ledger (ts, agent_key, input_tokens, output_tokens, cache_read_tokens,
       cache_creation_tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    ts,
    agentKey,
    usage.input_tokens,
    usage.output_tokens,
    usage.cache_read_tokens,
    usage.cache_creation_tokens,
    usage.cost_usd,
  );
}

const SUMS = `count(*) AS turns, coalesce(sum(l.input_tokens), 0) AS input_tokens,
  coalesce(sum(l.output_tokens), 0) AS output_tokens,
  coalesce(sum(l.cache_read_tokens), 0) AS cache_read_tokens,
  coalesce(sum(l.cache_creation_tokens), 0) AS cache_creation_tokens,
  coalesce(sum(l.cost_usd), 0) AS cost_usd`;

function toSums(row: Record<string, unknown>): UsageSums {
  return {
    turns: row.turns as number,
    input_tokens: row.input_tokens as number,
    output_tokens: row.output_tokens as number,
    cache_read_tokens: row.cache_read_tokens as number,
    cache_creation_tokens: row.cache_creation_tokens as number,
    cost_usd: row.cost_usd as number,
  };
}

/** Ledger sums over `[since, until)`. */
export function selectUsageSums(conn: Connection, since: number, until: number): UsageSums {
  return toSums(
    conn.prepare(`SELECT ${SUMS} FROM usage_ledger l WHERE l.ts >= ? AND l.ts < ?`).get(
      since,
      until,
    )!,
  );
}

/** The ledger's cost over `[since, until)` of agents working in `dir` or below it. */
export function selectUsageCostUnder(
  conn: Connection,
  dir: string,
  since: number,
  until: number,
): number {
  const exact = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
  const prefix = exact.endsWith("/") ? exact : `${exact}/`;
  const row = conn.prepare(
    `SELECT COALESCE(SUM(l.cost_usd), 0) AS cost FROM usage_ledger l
     JOIN agents a ON a.agent_key = l.agent_key
     WHERE l.ts >= ? AND l.ts < ? AND (a.cwd = ? OR substr(a.cwd, 1, ?) = ?)`,
  ).get(since, until, exact, prefix.length, prefix) as { cost: number };
  return row.cost;
}

/** Ledger sums per agent over `[since, until)`, most expensive first, at most `limit`. */
export function selectUsageByAgent(
  conn: Connection,
  since: number,
  until: number,
  limit: number,
  agentId?: string,
): AgentUsage[] {
  const where: string[] = ["l.ts >= ?", "l.ts < ?"];
  const values: SQLInputValue[] = [since, until];
  if (agentId !== undefined) {
    const key = keyOf(conn, agentId);
    if (key === undefined) return [];
    where.push("l.agent_key = ?");
    values.push(key);
  }
  return conn.prepare(
    `SELECT a.id AS agent_id, a.name, a.kind, a.model, a.parent_id, ${SUMS}
     FROM usage_ledger l LEFT JOIN agents a ON a.agent_key = l.agent_key
     WHERE ${where.join(" AND ")} GROUP BY l.agent_key ORDER BY cost_usd DESC, l.agent_key LIMIT ?`,
  ).all(...values, limit).map((row) => ({
    agent_id: row.agent_id as string | null,
    name: row.name as string | null,
    kind: row.kind as string | null,
    model: row.model as string | null,
    parent_id: row.parent_id as string | null,
    ...toSums(row),
  }));
}

/** Ledger sums in buckets of `bucketMs` over `[since, until)`; empty buckets included. */
export function selectUsageSeries(
  conn: Connection,
  since: number,
  until: number,
  bucketMs: number,
): UsageBucket[] {
  const rows = conn.prepare(
    `SELECT CAST((l.ts - ?) / ? AS INTEGER) AS bucket, ${SUMS} FROM usage_ledger l
     WHERE l.ts >= ? AND l.ts < ? GROUP BY bucket ORDER BY bucket`,
  ).all(since, bucketMs, since, until);
  const byBucket = new Map(rows.map((r) => [r.bucket as number, toSums(r)]));
  const buckets: UsageBucket[] = [];
  const n = Math.ceil((until - since) / bucketMs);
  for (let i = 0; i < n; i++) {
    buckets.push({
      start: since + i * bucketMs,
      ...(byBucket.get(i) ?? ZERO_USAGE_SUMS),
    });
  }
  return buckets;
}

/** Stores one OAuth usage reading; returns its id. */
export function insertOauthPollRow(conn: Connection, poll: OauthPollInput): number {
  return Number(
    conn.prepare(
      "INSERT INTO oauth_usage_polls (ts, ok, http_status, body, error) VALUES (?, ?, ?, ?, ?)",
    ).run(poll.ts, poll.ok ? 1 : 0, poll.http_status, poll.body, poll.error).lastInsertRowid,
  );
}

/** The newest OAuth usage reading (successful only when `okOnly`), or undefined. */
export function selectLatestOauthPoll(conn: Connection, okOnly: boolean): OauthPoll | undefined {
  const row = conn.prepare(
    `SELECT id, ts, ok, http_status, body, error FROM oauth_usage_polls
     ${okOnly ? "WHERE ok = 1" : ""} ORDER BY id DESC LIMIT 1`,
  ).get();
  if (!row) return undefined;
  return {
    id: row.id as number,
    ts: row.ts as number,
    ok: row.ok === 1,
    http_status: row.http_status as number | null,
    body: row.body as string | null,
    error: row.error as string | null,
  };
}

/** Deletes OAuth readings older than `before`, keeping the newest; returns how many. */
export function deleteOauthPollsBefore(conn: Connection, before: number): number {
  return Number(
    conn.prepare(
      `DELETE FROM oauth_usage_polls WHERE ts < ?
       AND id <> (SELECT max(id) FROM oauth_usage_polls)`,
    ).run(before).changes,
  );
}
