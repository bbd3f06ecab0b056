/**
 * SQL for the commit shadow: the git state of an agent's work tree when it first started, and the
 * commit message proposed for (and the commit made from) its changes. Transactions are the caller's.
 */
import type { AgentStatus } from "../models/mod.ts";
import type { Connection } from "./_connection.ts";

/** The git state of a work tree at an agent's first start. */
export interface WorktreeSnapshot {
  /** `git rev-parse --show-toplevel`. */
  toplevel: string;
  /** HEAD commit, null in a repository without commits. */
  head: string | null;
  /** Dirty paths (relative to toplevel) → `"<XY status> <blob hash or ->"`. */
  entries: Record<string, string>;
  taken_at: number;
}

/** The proposed (and, once made, the recorded) commit of an agent's changes. */
export interface CommitRecord {
  message: string;
  /** `shadow` (written by the commit shadow) or `fallback` (a fixed message). */
  source: "shadow" | "fallback";
  /** The commit shadow agent, when one ran. */
  shadow_id: string | null;
  /** Paths (relative to the toplevel) changed during the agent's run. */
  files: string[];
  prepared_at: number;
  sha: string | null;
  committed_at: number | null;
}

/** An agent whose work tree snapshot shares a toplevel with another's. */
export interface WorktreeNeighbour {
  agent_id: string;
  kind: string;
  status: AgentStatus;
  taken_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

/** Stores the snapshot unless the agent already has one (only the first start counts). */
export function insertWorktreeRow(
  conn: Connection,
  agentKey: number,
  snapshot: WorktreeSnapshot,
): boolean {
  return Number(
    conn.prepare(
      `INSERT INTO agent_worktrees (agent_key, toplevel, head, entries, taken_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_key) DO NOTHING`,
    ).run(
      agentKey,
      snapshot.toplevel,
      snapshot.head,
      JSON.stringify(snapshot.entries),
      snapshot.taken_at,
    ).changes,
  ) === 1;
}

export function selectWorktreeRow(
  conn: Connection,
  agentKey: number,
): WorktreeSnapshot | undefined {
  const row = conn.prepare(
    "SELECT toplevel, head, entries, taken_at FROM agent_worktrees WHERE agent_key = ?",
  ).get(agentKey);
  if (!row) return undefined;
  return {
    toplevel: row.toplevel as string,
    head: row.head as string | null,
    entries: JSON.parse(row.entries as string),
    taken_at: row.taken_at as number,
  };
}

/** Other agents with a snapshot of the same toplevel. */
export function selectWorktreeNeighbours(
  conn: Connection,
  toplevel: string,
  excludeKey: number,
): WorktreeNeighbour[] {
  return conn.prepare(
    `SELECT a.id AS agent_id, a.kind, a.status, w.taken_at, a.started_at, a.finished_at,
       a.updated_at FROM agent_worktrees w JOIN agents a ON a.agent_key = w.agent_key
     WHERE w.toplevel = ? AND w.agent_key <> ?`,
  ).all(toplevel, excludeKey).map((r) => ({ ...r }) as unknown as WorktreeNeighbour);
}

/** Stores the proposal, replacing an earlier one unless a commit was already recorded. */
export function upsertCommitProposal(
  conn: Connection,
  agentKey: number,
  proposal: Omit<CommitRecord, "sha" | "committed_at">,
): void {
  conn.prepare(
    `INSERT INTO agent_commits (agent_key, message, source, shadow_id, files, prepared_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (agent_key) DO UPDATE SET message = excluded.message, source = excluded.source,
       shadow_id = excluded.shadow_id, files = excluded.files, prepared_at = excluded.prepared_at
     WHERE agent_commits.sha IS NULL`,
  ).run(
    agentKey,
    proposal.message,
    proposal.source,
    proposal.shadow_id,
    JSON.stringify(proposal.files),
    proposal.prepared_at,
  );
}

export function selectCommitRow(conn: Connection, agentKey: number): CommitRecord | undefined {
  const row = conn.prepare(
    `SELECT message, source, shadow_id, files, prepared_at, sha, committed_at FROM agent_commits
     WHERE agent_key = ?`,
  ).get(agentKey);
  if (!row) return undefined;
  return {
    message: row.message as string,
    source: row.source as CommitRecord["source"],
    shadow_id: row.shadow_id as string | null,
    files: JSON.parse(row.files as string),
    prepared_at: row.prepared_at as number,
    sha: row.sha as string | null,
    committed_at: row.committed_at as number | null,
  };
}

/** Records the commit made; the message and files are what was committed. */
export function updateCommitMade(
  conn: Connection,
  agentKey: number,
  made: { message: string; source: CommitRecord["source"]; files: string[]; sha: string },
  now: number,
): void {
  conn.prepare(
    `INSERT INTO agent_commits (agent_key, message, source, shadow_id, files, prepared_at, sha,
       committed_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)
     ON CONFLICT (agent_key) DO UPDATE SET message = excluded.message, source = excluded.source,
       files = excluded.files, sha = excluded.sha, committed_at = excluded.committed_at`,
  ).run(agentKey, made.message, made.source, JSON.stringify(made.files), now, made.sha, now);
}

/** Deletes an agent's snapshot and commit record. */
export function deleteWorktreeRows(conn: Connection, agentKey: number): void {
  conn.prepare("DELETE FROM agent_worktrees WHERE agent_key = ?").run(agentKey);
  conn.prepare("DELETE FROM agent_commits WHERE agent_key = ?").run(agentKey);
}

/** Where a worktree agent runs: its own git worktree and branch, made from a base commit. */
export interface AgentIsolation {
  /** The main work tree of the repository (`git rev-parse --show-toplevel` of the user's cwd). */
  repo_root: string;
  /** The full ref the branch was made from and merges into (`refs/heads/main`); null: detached. */
  base_ref: string | null;
  base_sha: string;
  /** The agent's branch, short name (`hero/fix-login-0a1b2c3d`). */
  branch: string;
  /** The worktree, under the daemon's state dir. */
  worktree_path: string;
  created_at: number;
  merged_sha: string | null;
  merged_at: number | null;
  /** When the worktree (and the branch) were removed. */
  removed_at: number | null;
}

/** An isolation row with its agent, for recovery. */
export interface IsolationEntry extends AgentIsolation {
  agent_id: string;
  status: AgentStatus;
}

/**
 * Stores an isolated agent's worktree row: the snapshot part describes the fresh worktree (the base
 * commit, nothing dirty), so the commit shadow reads the agent's changes there.
 */
export function insertIsolationRow(
  conn: Connection,
  agentKey: number,
  iso: Pick<AgentIsolation, "repo_root" | "base_ref" | "base_sha" | "branch" | "worktree_path">,
  toplevel: string,
  now: number,
): void {
  conn.prepare(
    `INSERT INTO agent_worktrees (agent_key, toplevel, head, entries, taken_at, isolation,
       repo_root, base_ref, base_sha, branch, worktree_path)
     VALUES (?, ?, ?, '{}', ?, 'worktree', ?, ?, ?, ?, ?)`,
  ).run(
    agentKey,
    toplevel,
    iso.base_sha,
    now,
    iso.repo_root,
    iso.base_ref,
    iso.base_sha,
    iso.branch,
    iso.worktree_path,
  );
}

const ISOLATION_COLUMNS = `w.repo_root, w.base_ref, w.base_sha, w.branch, w.worktree_path,
  w.taken_at AS created_at, w.merged_sha, w.merged_at, w.removed_at`;

function toIsolation(row: Record<string, unknown>): AgentIsolation {
  return {
    repo_root: row.repo_root as string,
    base_ref: row.base_ref as string | null,
    base_sha: row.base_sha as string,
    branch: row.branch as string,
    worktree_path: row.worktree_path as string,
    created_at: row.created_at as number,
    merged_sha: row.merged_sha as string | null,
    merged_at: row.merged_at as number | null,
    removed_at: row.removed_at as number | null,
  };
}

export function selectIsolationRow(
  conn: Connection,
  agentKey: number,
): AgentIsolation | undefined {
  const row = conn.prepare(
    `SELECT ${ISOLATION_COLUMNS} FROM agent_worktrees w
     WHERE w.agent_key = ? AND w.isolation = 'worktree'`,
  ).get(agentKey);
  return row ? toIsolation(row) : undefined;
}

/** Every isolated agent whose worktree was not removed. */
export function selectLiveIsolationRows(conn: Connection): IsolationEntry[] {
  return conn.prepare(
    `SELECT a.id AS agent_id, a.status, ${ISOLATION_COLUMNS} FROM agent_worktrees w
     JOIN agents a ON a.agent_key = w.agent_key
     WHERE w.isolation = 'worktree' AND w.removed_at IS NULL`,
  ).all().map((r) =>
    ({ ...toIsolation(r), agent_id: r.agent_id as string, status: r.status }) as IsolationEntry
  );
}

/** Records a merge of the agent's branch, or the removal of its worktree. */
export function updateIsolationRow(
  conn: Connection,
  agentKey: number,
  change: { merged_sha: string; merged_at: number } | { removed_at: number },
): void {
  if ("merged_sha" in change) {
    conn.prepare("UPDATE agent_worktrees SET merged_sha = ?, merged_at = ? WHERE agent_key = ?")
      .run(change.merged_sha, change.merged_at, agentKey);
  } else {
    conn.prepare("UPDATE agent_worktrees SET removed_at = ? WHERE agent_key = ?")
      .run(change.removed_at, agentKey);
  }
}
