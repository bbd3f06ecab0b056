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

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "initial_agents_messages", sql: M001_INITIAL },
  { version: 2, name: "events_and_indexes", sql: M002_EVENTS },
  { version: 3, name: "pending_turn", sql: M003_PENDING_TURN },
];

/** The schema version this build writes and understands. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]!.version;
