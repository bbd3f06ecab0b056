/** Internal: the commit shadow's part of `Store`: work tree snapshots and commits. */
import type { DatabaseSync } from "node:sqlite";
import type { Connection } from "./_connection.ts";
import { agentKeyOf, connectionOf } from "./_store_core.ts";
import { UsageRecords } from "./_store_usage.ts";
import { selectAgentHead } from "./agents.ts";
import type { OnStoreCommit } from "./outbox.ts";
import {
  type CommitRecord,
  insertWorktreeRow,
  selectCommitRow,
  selectWorktreeNeighbours,
  selectWorktreeRow,
  updateCommitMade,
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
}
