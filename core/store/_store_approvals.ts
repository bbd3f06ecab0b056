/**
 * Internal: the approval inbox's part of `Store`. Each write records an `approval` event in the
 * same transaction (its `seq` is the approval's key) and hands the row to the outbox, so the
 * event is published only after COMMIT, like every other change.
 */
import type { DatabaseSync } from "node:sqlite";
import type { Approval, ApprovalState } from "../models/mod.ts";
import type { Connection } from "./_connection.ts";
import { agentKeyOf, connectionOf } from "./_store_core.ts";
import { WorktreeRecords } from "./_store_worktrees.ts";
import {
  answerApprovalRow,
  type ApprovalAnswer,
  type ApprovalRoute,
  insertApprovalRow,
  type NewApproval,
  routeOf,
  selectApprovalById,
  selectApprovalByKey,
  selectApprovals,
  selectPendingKeys,
  toApproval,
} from "./approvals.ts";
import { ApprovalNotFoundError } from "./errors.ts";
import { insertEvent } from "./events.ts";
import type { OnStoreCommit } from "./outbox.ts";

export type { ApprovalAnswer, ApprovalRoute, NewApproval } from "./approvals.ts";

/** Permission prompts of running agents and their one answer each. */
export class ApprovalRecords extends WorktreeRecords {
  #conn: Connection;

  /** @internal Use `openStore`. */
  constructor(path: string, db: DatabaseSync, onCommit?: OnStoreCommit) {
    super(path, db, onCommit);
    this.#conn = connectionOf(this);
  }

  #publish(row: Record<string, unknown>, now: number): Approval {
    const approval = toApproval(row);
    const id = insertEvent(
      this.#conn,
      now,
      "approval",
      row.agent_key as number,
      row.approval_key as number,
    );
    this.#conn.outbox.add({ kind: "approval", id, approval });
    return approval;
  }

  /** Stores a pending approval of agent `agentId` (before anything shows it). */
  insertApproval(agentId: string, a: NewApproval): Approval {
    return this.#conn.immediate(() => {
      const now = Date.now();
      return this.#publish(
        insertApprovalRow(this.#conn, agentKeyOf(this.#conn, agentId), a, now),
        now,
      );
    });
  }

  /**
   * Closes approval `id` if it is still pending (exactly once: of two answers, one gets the row,
   * the other undefined). Returns the closed approval and how to answer claude.
   * @throws {ApprovalNotFoundError} when there is no such approval.
   */
  answerApproval(
    id: string,
    answer: ApprovalAnswer,
  ): { approval: Approval; route: ApprovalRoute } | undefined {
    return this.#conn.immediate(() => {
      const row = selectApprovalById(this.#conn, id);
      if (!row) throw new ApprovalNotFoundError(id);
      const now = Date.now();
      const closed = answerApprovalRow(this.#conn, row.approval_key as number, answer, now);
      return closed ? { approval: this.#publish(closed, now), route: routeOf(closed) } : undefined;
    });
  }

  /**
   * Closes every pending approval (of agent `agentId` when given; of one process when
   * `procMarker` is given too) with `answer`; returns the closed ones. A process that is gone can
   * never run a tool on an old answer, so its prompts close without one.
   */
  closePendingApprovals(
    answer: ApprovalAnswer,
    filter: { agentId?: string; procMarker?: string } = {},
  ): Approval[] {
    return this.#conn.immediate(() => {
      const agentKey = filter.agentId === undefined
        ? undefined
        : agentKeyOf(this.#conn, filter.agentId);
      const closed: Approval[] = [];
      const now = Date.now();
      for (const key of selectPendingKeys(this.#conn, agentKey)) {
        const row = selectApprovalByKey(this.#conn, key)!;
        if (filter.procMarker !== undefined && row.proc_marker !== filter.procMarker) continue;
        const done = answerApprovalRow(this.#conn, key, answer, now);
        if (done) closed.push(this.#publish(done, now));
      }
      return closed;
    });
  }

  /** The approval with `id`, or undefined. */
  getApproval(id: string): Approval | undefined {
    const row = selectApprovalById(this.#conn, id);
    return row ? toApproval(row) : undefined;
  }

  /** The approval with internal key `key` (an `approval` event's `seq`), or undefined. */
  getApprovalByKey(key: number): Approval | undefined {
    const row = selectApprovalByKey(this.#conn, key);
    return row ? toApproval(row) : undefined;
  }

  /** Approvals, newest first; of one agent and/or in one state. */
  listApprovals(q: { agentId?: string; state?: ApprovalState; limit?: number } = {}): Approval[] {
    const agentKey = q.agentId === undefined ? undefined : agentKeyOf(this.#conn, q.agentId);
    return selectApprovals(this.#conn, { agentKey, state: q.state, limit: q.limit ?? 200 });
  }
}
