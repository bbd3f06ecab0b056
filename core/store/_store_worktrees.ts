/** Internal: the commit shadow's part of `Store`: work tree snapshots and commits. */
import type { DatabaseSync } from "node:sqlite";
import type { Connection } from "./_connection.ts";
import { agentKeyOf, connectionOf } from "./_store_core.ts";
import { UsageRecords } from "./_store_usage.ts";
import { selectAgentHead } from "./agents.ts";
import type { OnStoreCommit } from "./outbox.ts";
import {
  type AgentIsolation,
  type CommitRecord,
  insertIsolationRow,
  insertWorktreeRow,
  type IsolationEntry,
  selectCommitRow,
  selectIsolationRow,
  selectLiveIsolationRows,
  selectWorktreeNeighbours,
  selectWorktreeRow,
  updateCommitMade,
  updateIsolationRow,
  upsertCommitProposal,
  type WorktreeNeighbour,
  type WorktreeSnapshot,
} from "./worktrees.ts";

/** Work tree snapshots taken at an agent's first start, commit proposals and commits made. */
export class WorktreeRecords extends UsageRecords {
  #conn: Connection;

  /** @internal Use `openStore`. */
  constructor(path: string, db: DatabaseSync, onCommit?: OnStoreCommit) {
    super(path, db, onCommit);
    this.#conn = connectionOf(this);
  }

  // --- Work tree snapshots and commits (commit shadow) -----------------------------------------

  /**
   * Stores the work tree state of agent `agentId` at its first start; a later call keeps the
   * first. Returns whether this call stored it.
   */
  saveWorktreeSnapshot(agentId: string, snapshot: WorktreeSnapshot): boolean {
    return this.#conn.immediate(() =>
      insertWorktreeRow(this.#conn, agentKeyOf(this.#conn, agentId), snapshot)
    );
  }

  worktreeSnapshot(agentId: string): WorktreeSnapshot | undefined {
    const head = selectAgentHead(this.#conn, agentId);
    return head ? selectWorktreeRow(this.#conn, head.agent_key) : undefined;
  }

  /** Other agents that started in the same git toplevel as agent `agentId`. */
  worktreeNeighbours(agentId: string, toplevel: string): WorktreeNeighbour[] {
    return selectWorktreeNeighbours(this.#conn, toplevel, agentKeyOf(this.#conn, agentId));
  }

  /** Stores the commit message proposed for agent `agentId` (unless it was committed already). */
  saveCommitProposal(agentId: string, proposal: Omit<CommitRecord, "sha" | "committed_at">): void {
    this.#conn.immediate(() =>
      upsertCommitProposal(this.#conn, agentKeyOf(this.#conn, agentId), proposal)
    );
  }

  commitRecord(agentId: string): CommitRecord | undefined {
    const head = selectAgentHead(this.#conn, agentId);
    return head ? selectCommitRow(this.#conn, head.agent_key) : undefined;
  }

  /** Records the commit made from agent `agentId`'s changes. */
  recordCommit(
    agentId: string,
    made: { message: string; source: CommitRecord["source"]; files: string[]; sha: string },
  ): void {
    this.#conn.immediate(() =>
      updateCommitMade(this.#conn, agentKeyOf(this.#conn, agentId), made, Date.now())
    );
  }

  // --- Worktree isolation ----------------------------------------------------------------------

  /** The worktree of isolated agent `agentId`, or undefined (it runs in the user's tree). */
  isolation(agentId: string): AgentIsolation | undefined {
    const head = selectAgentHead(this.#conn, agentId);
    return head ? selectIsolationRow(this.#conn, head.agent_key) : undefined;
  }

  /** Isolated agents whose worktree was not removed (for recovery and pruning). */
  liveIsolations(): IsolationEntry[] {
    return selectLiveIsolationRows(this.#conn);
  }

  /** Records that agent `agentId`'s branch was merged as `sha`. */
  recordMerge(agentId: string, sha: string): void {
    this.#conn.immediate(() =>
      updateIsolationRow(this.#conn, agentKeyOf(this.#conn, agentId), {
        merged_sha: sha,
        merged_at: Date.now(),
      })
    );
  }

  /** Records that agent `agentId`'s worktree and branch were removed. */
  recordWorktreeRemoved(agentId: string): void {
    this.#conn.immediate(() =>
      updateIsolationRow(this.#conn, agentKeyOf(this.#conn, agentId), { removed_at: Date.now() })
    );
  }

  /** @internal The store's insertAgent stores the row in the agent's own transaction. */
  protected insertIsolation(
    agentKey: number,
    iso: Pick<AgentIsolation, "repo_root" | "base_ref" | "base_sha" | "branch" | "worktree_path">,
    toplevel: string,
    now: number,
  ): void {
    insertIsolationRow(this.#conn, agentKey, iso, toplevel, now);
  }
}
