/**
 * The schema, as an ordered list of forward-only migrations. Never edit a released migration: append a
 * new one. Each runs in its own `BEGIN IMMEDIATE` transaction (see `migrate()` in `db.ts`).
 *
 * Layout notes:
 * - `agents.agent_key` is an internal integer key; `messages` and `events` refer to agents by it
 *   because integer keys make the two hot indexes smaller and ingest ~1.6x faster than 36-char
 *   UUID text keys (measured: 136k vs 85k lines/s, FULL sync, 1,000-line batches).
 * - `messages.raw` is the last column so that reading the other columns never touches the blob's
 *   overflow pages.
 * - `messages` is a rowid table: measured faster to insert than `WITHOUT ROWID` with 436-byte lines,
 *   and SQLite advises rowid tables for rows that hold large blobs.
 *
 * @module
 */

/** The full-text index table; also used by `rebuildSearchIndex()` to recreate it. */
export const SEARCH_FTS_DDL = `CREATE VIRTUAL TABLE search_fts USING fts5(
  body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);`;

/** The indexed text of an agent row (`new` or a table alias): its name and cwd. */
function agentDocSql(row: string): string {
  return `coalesce(${row}.name, '') || ' ' || ${row}.cwd`;
}

/** Indexes every agent's name and cwd (the migration's backfill, and a rebuild's). */
export const SEARCH_AGENT_DOCS_SQL = `INSERT INTO search_fts (rowid, body) SELECT -a.agent_key, ${
  agentDocSql("a")
} FROM agents a;`;

/** One schema step. `version` is 1-based and dense. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const M001_INITIAL = `
CREATE TABLE agents (
  agent_key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT,
  prompt TEXT NOT NULL,
  cwd TEXT NOT NULL,
  model TEXT NOT NULL,
  effort TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  parent_id TEXT,
  session_id TEXT,
  pid INTEGER,
  pgid INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  cancel_requested_at INTEGER,
  exit_code INTEGER,
  exit_signal TEXT,
  error_code TEXT,
  error_message TEXT,
  result TEXT,
  turn_count INTEGER NOT NULL DEFAULT 0,
  num_turns INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  total_cost_usd REAL NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0,
  rate_limit_resets_at INTEGER,
  stderr_tail TEXT,
  stderr_truncated INTEGER NOT NULL DEFAULT 0 CHECK (stderr_truncated IN (0, 1)),
  proc_marker TEXT,
  proc_started_at INTEGER,
  proc_lstart TEXT,
  attempts INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE messages (
  agent_key INTEGER NOT NULL REFERENCES agents (agent_key),
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  type TEXT,
  subtype TEXT,
  byte_length INTEGER NOT NULL,
  parse_error INTEGER NOT NULL CHECK (parse_error IN (0, 1)),
  eof_no_newline INTEGER NOT NULL CHECK (eof_no_newline IN (0, 1)),
  raw BLOB NOT NULL,
  PRIMARY KEY (agent_key, seq)
) STRICT;
`;

const M002_EVENTS = `
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  agent_key INTEGER NOT NULL,
  seq INTEGER
) STRICT;

CREATE INDEX events_by_agent ON events (agent_key, id);
CREATE INDEX agents_by_cwd ON agents (cwd, id);
CREATE INDEX agents_by_status ON agents (status, id);
CREATE INDEX agents_by_parent ON agents (parent_id);
`;

// A queued follow-up must survive a restart: its prompt and mode wait on the row until it starts.
const M003_PENDING_TURN = `
ALTER TABLE agents ADD COLUMN pending_prompt TEXT;
ALTER TABLE agents ADD COLUMN pending_permission_mode TEXT;
`;

// Quota proxy, shadows and usage telemetry (issue 6).
// - proxy_tokens: per-agent proxy tokens, stored only as SHA-256 hex; a second process or a restart
//   sees the same live tokens (no in-memory token table to fall out of step with).
// - usage_snapshots: `anthropic-ratelimit-*` headers of every upstream response, per request.
// - proxy_tallies: per-agent figures the proxy saw on the wire (a cross-check of the CLI's).
// - usage_ledger: one row per turn result with the CLI's own token and cost deltas, so cost over a
//   period is a sum over rows instead of a guess from cumulative agent totals.
// - oauth_usage_polls: readings of the OAuth usage endpoint.
// - agent_worktrees: the git state of an agent's work tree when it first started.
// - agent_commits: the commit message proposed for an agent's changes, and the commit made.
const M004_PROXY_USAGE_SHADOWS = `
CREATE TABLE proxy_tokens (
  token_hash TEXT PRIMARY KEY,
  agent_key INTEGER NOT NULL REFERENCES agents (agent_key),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX proxy_tokens_by_agent ON proxy_tokens (agent_key);

CREATE TABLE usage_snapshots (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  agent_key INTEGER,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  request_id TEXT,
  headers TEXT NOT NULL
) STRICT;
CREATE INDEX usage_snapshots_by_agent ON usage_snapshots (agent_key, id);

CREATE TABLE proxy_tallies (
  agent_key INTEGER PRIMARY KEY,
  requests INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  bytes_in INTEGER NOT NULL DEFAULT 0,
  bytes_out INTEGER NOT NULL DEFAULT 0,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  last_status INTEGER
) STRICT;

CREATE TABLE usage_ledger (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  agent_key INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL
) STRICT;
CREATE INDEX usage_ledger_by_ts ON usage_ledger (ts);
CREATE INDEX usage_ledger_by_agent ON usage_ledger (agent_key, ts);

CREATE TABLE oauth_usage_polls (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
  http_status INTEGER,
  body TEXT,
  error TEXT
) STRICT;

CREATE TABLE agent_worktrees (
  agent_key INTEGER PRIMARY KEY,
  toplevel TEXT NOT NULL,
  head TEXT,
  entries TEXT NOT NULL,
  taken_at INTEGER NOT NULL
) STRICT;
CREATE INDEX agent_worktrees_by_toplevel ON agent_worktrees (toplevel);

CREATE TABLE agent_commits (
  agent_key INTEGER PRIMARY KEY,
  message TEXT NOT NULL,
  source TEXT NOT NULL,
  shadow_id TEXT,
  files TEXT NOT NULL,
  prepared_at INTEGER NOT NULL,
  sha TEXT,
  committed_at INTEGER
) STRICT;
`;

// Home MCP (issue 7): the Hero service whose router MCP gateway an agent gets, and the caller's
// X-Hero-Context header passed on to it.
const M005_HOME_MCP = `
ALTER TABLE agents ADD COLUMN home_mcp TEXT;
ALTER TABLE agents ADD COLUMN hero_context TEXT;
`;

// Delete tombstones and known working directories.
// - events.agent_id: the id of a deleted agent, on its `agent_deleted` event. The agent row is gone,
//   so the id cannot come from the join; such events carry agent_key 0 (no agent has it), so a
//   reused agent_key never adopts them.
// - agents_by_cwd_kind: `agent.cwds` groups by cwd and skips shadows from this index alone.
const M006_TOMBSTONES_CWDS = `
ALTER TABLE events ADD COLUMN agent_id TEXT;
CREATE INDEX agents_by_cwd_kind ON agents (cwd, kind, created_at);
`;

// Full-text search (issue 17). `search_fts` is contentless (the text lives once, in `messages.raw`;
// snippets are cut from it at query time), so the index stays well under the size of the text.
// Rowid = the message's rowid; an agent's name and cwd are indexed under rowid = -agent_key.
// `search_state.watermark` is the highest message rowid indexed: the indexer follows it after
// commits (never inside the writer's transaction) and backfills an existing database the same way.
// Deletes are transactional: the triggers drop a deleted agent's rows from the index, and lower the
// watermark when the newest rows went (SQLite reuses the rowids above the remaining maximum).
const M007_SEARCH = `
${SEARCH_FTS_DDL}
CREATE TABLE search_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  watermark INTEGER NOT NULL,
  rebuilt_at INTEGER
) STRICT;
INSERT INTO search_state (id, watermark) VALUES (1, 0);
CREATE TRIGGER search_message_deleted AFTER DELETE ON messages
  WHEN old.rowid <= (SELECT watermark FROM search_state WHERE id = 1)
BEGIN
  DELETE FROM search_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER search_agent_deleted AFTER DELETE ON agents BEGIN
  DELETE FROM search_fts WHERE rowid = -old.agent_key;
  UPDATE search_state SET watermark = min(watermark, (SELECT coalesce(max(rowid), 0) FROM messages))
    WHERE id = 1;
END;
CREATE TRIGGER search_agent_added AFTER INSERT ON agents BEGIN
  INSERT INTO search_fts (rowid, body) VALUES (-new.agent_key, ${agentDocSql("new")});
END;
CREATE TRIGGER search_agent_renamed AFTER UPDATE OF name, cwd ON agents BEGIN
  INSERT OR REPLACE INTO search_fts (rowid, body) VALUES (-new.agent_key, ${agentDocSql("new")});
END;
${SEARCH_AGENT_DOCS_SQL}
`;

// The session ledger (issue 17).
// - fork_session_id / fork_at: a queued fork's first process resumes fork_session_id up to the
//   chain entry fork_at under a new session id (`--resume --fork-session --resume-session-at`);
//   kept on the row so a fork queued across a restart still starts from the right point.
// - session_imports: one row per imported Claude Code session file; byte_offset is the byte
//   watermark after the last complete line taken in, so a re-import reads only what was appended.
//   agent_key becomes NULL when the imported agent is deleted: the file stays known, so a deleted
//   session does not come back at the next import.
const M008_SESSION_LEDGER = `
ALTER TABLE agents ADD COLUMN fork_session_id TEXT;
ALTER TABLE agents ADD COLUMN fork_at TEXT;
CREATE TABLE session_imports (
  path TEXT PRIMARY KEY,
  agent_key INTEGER REFERENCES agents (agent_key),
  session_id TEXT NOT NULL,
  byte_offset INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  malformed INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX session_imports_by_agent ON session_imports (agent_key);
CREATE INDEX agents_by_session ON agents (session_id);
`;

// Worktree isolation (issue 16): an agent may run in a git worktree of its own, on a branch of its
// own, under the daemon's state dir. Its snapshot row (the commit shadow's) then describes that
// worktree (toplevel = the worktree, head = the base sha, no dirty entries), and these columns say
// where it came from. `isolation` is `none` for agents that run in the user's tree.
const M009_WORKTREE_ISOLATION = `
ALTER TABLE agent_worktrees ADD COLUMN isolation TEXT NOT NULL DEFAULT 'none';
ALTER TABLE agent_worktrees ADD COLUMN repo_root TEXT;
ALTER TABLE agent_worktrees ADD COLUMN base_ref TEXT;
ALTER TABLE agent_worktrees ADD COLUMN base_sha TEXT;
ALTER TABLE agent_worktrees ADD COLUMN branch TEXT;
ALTER TABLE agent_worktrees ADD COLUMN worktree_path TEXT;
ALTER TABLE agent_worktrees ADD COLUMN merged_sha TEXT;
ALTER TABLE agent_worktrees ADD COLUMN merged_at INTEGER;
ALTER TABLE agent_worktrees ADD COLUMN removed_at INTEGER;
CREATE INDEX agent_worktrees_by_path ON agent_worktrees (worktree_path)
  WHERE worktree_path IS NOT NULL;
`;

// Quota governor and budgets (issue 15): a paused agent's reason, window and resume time live on
// its row so a restart keeps the pause and re-arms its timer; budgets are per agent.
const M010_PAUSE_BUDGETS = `
ALTER TABLE agents ADD COLUMN pause_reason TEXT;
ALTER TABLE agents ADD COLUMN pause_window TEXT;
ALTER TABLE agents ADD COLUMN paused_at INTEGER;
ALTER TABLE agents ADD COLUMN resume_at INTEGER;
ALTER TABLE agents ADD COLUMN max_cost_usd REAL;
ALTER TABLE agents ADD COLUMN max_turns INTEGER;
ALTER TABLE agents ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
`;

// The approval inbox (issue 14).
// - agents.permission_mode: the mode claude runs in; anything but bypassPermissions asks through
//   --permission-prompt-tool stdio, and each ask becomes an approvals row.
// - approvals: one row per can_use_tool request, stored before it is shown anywhere. request_id
//   is claude's control request id (the answer names it); proc_marker the process it belongs
//   to, so a daemon that restarts expires every pending row (that process is gone). input and
//   suggestions are the JSON claude sent, verbatim. state moves once, from pending.
// - events.seq of an `approval` event is the approval's key (its row is read on replay).
const M011_APPROVALS = `
ALTER TABLE agents ADD COLUMN permission_mode TEXT NOT NULL DEFAULT 'bypassPermissions';
CREATE TABLE approvals (
  approval_key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  agent_key INTEGER NOT NULL REFERENCES agents (agent_key),
  request_id TEXT NOT NULL,
  proc_marker TEXT,
  tool_name TEXT NOT NULL,
  input TEXT NOT NULL,
  description TEXT,
  suggestions TEXT NOT NULL,
  tool_use_id TEXT,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'allowed', 'denied', 'expired', 'cancelled')),
  answered_by TEXT,
  message TEXT,
  remember TEXT,
  answered_at INTEGER
) STRICT;
CREATE INDEX approvals_by_agent ON approvals (agent_key, approval_key);
CREATE INDEX approvals_pending ON approvals (state, approval_key) WHERE state = 'pending';
`;

// Active time (issue 13, item 9): how long an agent's processes actually ran turns, as opposed
// to wall time since creation. store.transition() keeps both columns: entering `running` sets
// active_since, leaving it adds the stretch to active_ms and clears active_since. Rows older than
// this migration: a running agent's stretch starts at its process spawn; a finished agent of one
// turn ran from started_at to finished_at; idle time between older follow-ups cannot be told
// apart, so those keep 0 (shown as unknown).
const M012_ACTIVE_TIME = `
ALTER TABLE agents ADD COLUMN active_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN active_since INTEGER;
UPDATE agents SET active_since = COALESCE(proc_started_at, started_at, updated_at)
  WHERE status = 'running';
UPDATE agents SET active_ms = MAX(0, finished_at - started_at)
  WHERE status <> 'running' AND turn_count <= 1 AND started_at IS NOT NULL
    AND finished_at IS NOT NULL;
`;

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "initial_agents_messages", sql: M001_INITIAL },
  { version: 2, name: "events_and_indexes", sql: M002_EVENTS },
  { version: 3, name: "pending_turn", sql: M003_PENDING_TURN },
  { version: 4, name: "proxy_usage_shadows", sql: M004_PROXY_USAGE_SHADOWS },
  { version: 5, name: "home_mcp", sql: M005_HOME_MCP },
  { version: 6, name: "tombstones_cwds", sql: M006_TOMBSTONES_CWDS },
  { version: 7, name: "search", sql: M007_SEARCH },
  { version: 8, name: "session_ledger", sql: M008_SESSION_LEDGER },
  { version: 9, name: "worktree_isolation", sql: M009_WORKTREE_ISOLATION },
  { version: 10, name: "pause_budgets", sql: M010_PAUSE_BUDGETS },
  { version: 11, name: "approvals", sql: M011_APPROVALS },
  { version: 12, name: "active_time", sql: M012_ACTIVE_TIME },
];

/** The schema version this build writes and understands. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]!.version;
