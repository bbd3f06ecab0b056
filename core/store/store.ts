/** `Store`: the one front for agents, messages and events in one SQLite file. */
import type { DatabaseSync } from "node:sqlite";
import {
  type Agent,
  type AgentStatus,
  assertTransition,
  canTransition,
  type Message,
  TERMINAL_STATUSES,
} from "../models/mod.ts";
import { attachConnection, Connection } from "./_connection.ts";
import {
  migrate,
  openDatabase,
  type OpenDatabaseOptions,
  schemaVersionOf,
  sqliteVersionOf,
} from "./db.ts";
import { AgentNotFoundError } from "./errors.ts";
import {
  type AgentPage,
  type AgentPatch,
  type AgentQuery,
  checkNewAgent,
  checkPatch,
  clampLimit,
  insertAgentRow,
  type KnownCwd,
  type KnownCwdsOptions,
  type NewAgent,
  type ProcessRecord,
  selectAgentHead,
  selectAgentPage,
  selectAgentRow,
  selectAgentsByStatus,
  selectKnownCwds,
  selectProcessRecord,
  toAgent,
  updateAgentRow,
} from "./agents.ts";
import {
  countMessageRows,
  deleteMessageRows,
  hasMessageBefore,
  type RawLine,
  type ReadMessagesOptions,
  selectMessageBytes,
  selectMessages,
  selectMessagesBefore,
  selectRawLines,
} from "./messages.ts";
import {
  deleteEventRows,
  insertEvent,
  insertTombstone,
  selectEvents,
  selectLastEventId,
  type StoredEvent,
} from "./events.ts";

import {
  type AgentUsage,
  deleteOauthPollsBefore,
  deleteProxyRows,
  deleteSnapshotsBefore,
  insertLedgerRow,
  insertOauthPollRow,
  insertProxyRecords,
  insertProxyTokenRow,
  type OauthPoll,
  type OauthPollInput,
  type ProxyTally,
  type ProxyTallyDelta,
  type ProxyTokenRecord,
  type RateLimitSnapshot,
  type RateLimitSnapshotInput,
  revokeAllProxyTokenRows,
  revokeProxyTokenRows,
  selectLatestOauthPoll,
  selectProxyTally,
  selectProxyToken,
  selectSnapshots,
  selectUsageByAgent,
  selectUsageSeries,
  selectUsageSums,
  type TurnUsage,
  type UsageBucket,
  type UsageSums,
} from "./proxy.ts";
import {
  type CommitRecord,
  deleteWorktreeRows,
  insertWorktreeRow,
  selectCommitRow,
  selectWorktreeNeighbours,
  selectWorktreeRow,
  updateCommitMade,
  upsertCommitProposal,
  type WorktreeNeighbour,
  type WorktreeSnapshot,
} from "./worktrees.ts";

/** What {@linkcode Store.deleteAgent} recorded. */
export interface DeletedAgent {
  id: string;
  /** Id of the `agent_deleted` event. */
  event_id: number;
  /** Epoch ms. */
  deleted_at: number;
}

/** Options for {@linkcode openStore}. */
export type OpenStoreOptions = OpenDatabaseOptions;

/**
 * Opens the database at `path` (creating it and its directory if missing), checks the SQLite
 * version, sets WAL + `synchronous=FULL` + `busy_timeout` + `foreign_keys`, and migrates it.
 *
 * @example
 * ```ts
 * const store = openStore("/tmp/hero/db.sqlite");
 * store.insertAgent({ id: newId(), prompt: "hi", cwd: "/tmp", model: "m", effort: "low", kind: "standard" });
 * store.close();
 * ```
 */
export function openStore(path: string, options: OpenStoreOptions = {}): Store {
  const db = openDatabase(path, options);
  try {
    migrate(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  return new Store(path, db);
}

/**
 * All reads and writes of the engine's state. Every write runs in a `BEGIN IMMEDIATE` transaction,
 * and every change to an agent or its lines appends an event in that same transaction.
 * Not constructible directly: use {@linkcode openStore}.
 */
export class Store {
  /** The database file. */
  readonly path: string;
  #conn: Connection;
  #closed = false;

  /** @internal Use {@linkcode openStore}. */
  constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#conn = new Connection(db);
    attachConnection(this, this.#conn);
  }

  /** The schema version of the open database. */
  schemaVersion(): number {
    return schemaVersionOf(this.#conn.db);
  }

  /** The linked SQLite library's version. */
  sqliteVersion(): string {
    return sqliteVersionOf(this.#conn.db);
  }

  /** `PRAGMA integrity_check`: `"ok"` when the file is sound, else the problems, one per line. */
  integrityCheck(): string {
    return this.#conn.db.prepare("PRAGMA integrity_check").all()
      .map((r) => String(r.integrity_check)).join("\n");
  }

  /** Copies the WAL into the database and truncates it (`PRAGMA wal_checkpoint(TRUNCATE)`). */
  checkpoint(): void {
    this.#conn.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /** Checkpoints, then closes. Idempotent. Close the `MessageWriter` first: its queued lines need the store. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.checkpoint();
    } finally {
      this.#conn.db.close();
    }
  }

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction: COMMIT when it returns, ROLLBACK when it throws.
   * `fn` must be synchronous. Store methods called inside join the transaction; `write()` itself does
   * not nest.
   */
  write<T>(fn: () => T): T {
    if (this.#conn.db.isTransaction) {
      throw new Error(
        "Cannot begin a write transaction: one is already open (write() does not nest)",
      );
    }
    return this.#conn.immediate(fn);
  }

  /** Inserts a new agent in status `queued` and records an `agent` event. */
  insertAgent(a: NewAgent): Agent {
    checkNewAgent(a);
    return this.#conn.immediate(() => {
      const now = Date.now();
      const row = insertAgentRow(this.#conn, a, now);
      insertEvent(this.#conn, now, "agent", row.agent_key, null);
      return toAgent(row);
    });
  }

  /** The agent with `id`, or undefined. */
  getAgent(id: string): Agent | undefined {
    const row = selectAgentRow(this.#conn, id);
    return row ? toAgent(row) : undefined;
  }

  /** The internal process columns of agent `id` (for ownership checks), or undefined. */
  getProcessRecord(id: string): ProcessRecord | undefined {
    return selectProcessRecord(this.#conn, id);
  }

  /**
   * Moves agent `id` to status `to`, applying `patch`, in one transaction that re-reads the current
   * status and checks the move with `assertTransition`. Records an `agent` event.
   * @throws {AgentNotFoundError} when there is no such agent.
   * @throws {InvalidTransitionError} when the move is not allowed; nothing changes.
   */
  transition(id: string, to: AgentStatus, patch?: AgentPatch): Agent {
    if (patch) checkPatch(patch, `move agent "${id}" to ${to}`);
    return this.#conn.immediate(() => {
      const head = selectAgentHead(this.#conn, id);
      if (!head) throw new AgentNotFoundError(id);
      assertTransition(head.status, to, id);
      const now = Date.now();
      const row = updateAgentRow(
        this.#conn,
        head.agent_key,
        { sets: ["status = ?"], values: [to] },
        patch,
        now,
      );
      // A terminal agent's proxy tokens die in the same transaction as its status.
      if (TERMINAL_STATUSES.includes(to)) revokeProxyTokenRows(this.#conn, head.agent_key, now);
      insertEvent(this.#conn, now, "agent", head.agent_key, null);
      return toAgent(row);
    });
  }

  /**
   * Moves many agents to `to` with the same patch in ONE transaction (recovery reconciles
   * thousands of rows; one fsync each would take seconds). Agents whose move is not allowed are
   * skipped; the moved rows are returned.
   */
  transitionMany(ids: readonly string[], to: AgentStatus, patch?: AgentPatch): Agent[] {
    if (patch) checkPatch(patch, `move agents to ${to}`);
    if (ids.length === 0) return [];
    return this.#conn.immediate(() => {
      const moved: Agent[] = [];
      const now = Date.now();
      for (const id of ids) {
        const head = selectAgentHead(this.#conn, id);
        if (!head || !canTransition(head.status, to)) continue;
        const row = updateAgentRow(
          this.#conn,
          head.agent_key,
          { sets: ["status = ?"], values: [to] },
          patch,
          now,
        );
        if (TERMINAL_STATUSES.includes(to)) revokeProxyTokenRows(this.#conn, head.agent_key, now);
        insertEvent(this.#conn, now, "agent", head.agent_key, null);
        moved.push(toAgent(row));
      }
      return moved;
    });
  }

  /**
   * Applies `patch` to agent `id` and records an `agent` event. `status` is refused (TypeError):
   * status changes go through {@linkcode Store.transition}.
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  updateAgent(id: string, patch: AgentPatch): Agent {
    checkPatch(patch, `update agent "${id}"`);
    return this.#conn.immediate(() => {
      const head = selectAgentHead(this.#conn, id);
      if (!head) throw new AgentNotFoundError(id);
      const now = Date.now();
      const row = updateAgentRow(this.#conn, head.agent_key, { sets: [], values: [] }, patch, now);
      insertEvent(this.#conn, now, "agent", head.agent_key, null);
      return toAgent(row);
    });
  }

  /** Agents in any of `statuses`, oldest first (recovery, FIFO queue). */
  listAgentsByStatus(statuses: readonly AgentStatus[]): Agent[] {
    return selectAgentsByStatus(this.#conn, statuses);
  }

  /**
   * One page of agents, newest first, filtered by cwd, statuses and kinds (empty arrays do not
   * filter). Pass the returned `next_cursor` to get the next page; it is null on the last page.
   * `limit` is clamped to 1000.
   */
  listAgents(q: AgentQuery): AgentPage {
    return selectAgentPage(this.#conn, q);
  }

  /**
   * The working directories agents ran in, most recently used first (then by path), with how many
   * agents used each and when the newest of them was created: at most `limit` (clamped to 1000).
   * Agents of `excludeKinds` are not counted (a cwd only they used is left out).
   */
  knownCwds(options: KnownCwdsOptions = {}): KnownCwd[] {
    return selectKnownCwds(this.#conn, options);
  }

  /**
   * Deletes agent `id` with its messages and events, and records its `agent_deleted` event (a
   * tombstone: the one event left of it) in the same transaction. The caller checks the agent is
   * terminal, tells its `MessageWriter` (`forgetAgent`) and publishes the tombstone.
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  deleteAgent(id: string): DeletedAgent {
    return this.#conn.immediate(() => {
      const head = selectAgentHead(this.#conn, id);
      if (!head) throw new AgentNotFoundError(id);
      deleteMessageRows(this.#conn, head.agent_key);
      deleteEventRows(this.#conn, head.agent_key);
      deleteProxyRows(this.#conn, head.agent_key);
      deleteWorktreeRows(this.#conn, head.agent_key);
      this.#conn.prepare("DELETE FROM agents WHERE agent_key = ?").run(head.agent_key);
      const now = Date.now();
      return { id, event_id: insertTombstone(this.#conn, now, id), deleted_at: now };
    });
  }

  /**
   * Lines of agent `agentId` with seq > `afterSeq`, oldest first: at most `limit` (clamped to 1000)
   * and, past the first, at most `options.maxBytes` bytes in total (default 16 MiB). `raw` is decoded
   * leniently (invalid UTF-8 becomes U+FFFD); {@linkcode Store.readMessageBytes} has the exact bytes.
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  readMessages(
    agentId: string,
    afterSeq: number,
    limit: number,
    options?: ReadMessagesOptions,
  ): Message[] {
    return selectMessages(this.#conn, this.#keyOf(agentId), agentId, afterSeq, limit, options);
  }

  /**
   * The newest lines of agent `agentId` with seq < `beforeSeq`, oldest first: at most `limit`
   * (clamped to 1000) and, past the newest, at most `options.maxBytes` bytes (default 16 MiB); the
   * lines nearest `beforeSeq` are the ones kept. Reads the (agent, seq) key backwards.
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  readMessagesBefore(
    agentId: string,
    beforeSeq: number,
    limit: number,
    options?: ReadMessagesOptions,
  ): Message[] {
    return selectMessagesBefore(
      this.#conn,
      this.#keyOf(agentId),
      agentId,
      beforeSeq,
      limit,
      options,
    );
  }

  /**
   * Lines of agent `agentId` with seq > `afterSeq` as stored bytes, oldest first (at most `limit`,
   * clamped to 1000): what an export streams.
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  readRawLines(agentId: string, afterSeq: number, limit: number): RawLine[] {
    return selectRawLines(this.#conn, this.#keyOf(agentId), afterSeq, limit);
  }

  /**
   * Whether agent `agentId` has a stored line with seq < `seq` (does not rely on seqs being
   * gap-free).
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  hasMessageBefore(agentId: string, seq: number): boolean {
    return hasMessageBefore(this.#conn, this.#keyOf(agentId), seq);
  }

  /** The exact stored bytes of one line, or undefined when there is no such line. */
  readMessageBytes(agentId: string, seq: number): Uint8Array | undefined {
    const head = selectAgentHead(this.#conn, agentId);
    return head ? selectMessageBytes(this.#conn, head.agent_key, seq) : undefined;
  }

  /**
   * How many lines agent `agentId` has stored.
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  countMessages(agentId: string): number {
    return countMessageRows(this.#conn, this.#keyOf(agentId));
  }

  /**
   * Events with id > `afterId`, oldest first, at most `limit` (clamped to 1000); only those of
   * agent `agentId` when given.
   * @throws {AgentNotFoundError} when `agentId` is given and there is no such agent.
   */
  readEvents(afterId: number, limit: number, agentId?: string): StoredEvent[] {
    const key = agentId === undefined ? undefined : this.#keyOf(agentId);
    return selectEvents(this.#conn, afterId, limit, key);
  }

  /** The highest event id assigned so far (0 when none). */
  lastEventId(): number {
    return selectLastEventId(this.#conn);
  }

  // --- Quota proxy: tokens (hashes only), snapshots, tallies -----------------------------------

  /**
   * Stores the SHA-256 (lower-case hex) of a new proxy token of agent `agentId`.
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  insertProxyToken(agentId: string, tokenHash: string, expiresAt: number): void {
    if (!/^[0-9a-f]{64}$/.test(tokenHash)) {
      throw new TypeError("Cannot store proxy token: the hash must be 64 lower-case hex digits");
    }
    this.#conn.immediate(() =>
      insertProxyTokenRow(this.#conn, this.#keyOf(agentId), tokenHash, Date.now(), expiresAt)
    );
  }

  /** The token with this hash, with its agent's id, kind and status; undefined when unknown. */
  findProxyToken(tokenHash: string): ProxyTokenRecord | undefined {
    return selectProxyToken(this.#conn, tokenHash);
  }

  /** Revokes every live proxy token of agent `agentId`; returns how many. */
  revokeProxyTokens(agentId: string): number {
    return this.#conn.immediate(() => {
      const head = selectAgentHead(this.#conn, agentId);
      return head ? revokeProxyTokenRows(this.#conn, head.agent_key, Date.now()) : 0;
    });
  }

  /** Revokes every live proxy token (daemon start: no child of an earlier run may keep one). */
  revokeAllProxyTokens(): number {
    return this.#conn.immediate(() => revokeAllProxyTokenRows(this.#conn, Date.now()));
  }

  /** Stores rate-limit snapshots and adds per-agent proxy tallies, in one transaction. */
  recordProxyActivity(
    snapshots: readonly RateLimitSnapshotInput[],
    tallies: readonly ProxyTallyDelta[],
  ): void {
    if (snapshots.length === 0 && tallies.length === 0) return;
    this.#conn.immediate(() => insertProxyRecords(this.#conn, snapshots, tallies));
  }

  /** The newest rate-limit snapshots first (of one agent when given), at most `limit` (≤ 1000). */
  rateLimitSnapshots(limit: number, agentId?: string): RateLimitSnapshot[] {
    return selectSnapshots(this.#conn, clampLimit(limit, "read snapshots"), agentId);
  }

  /** The proxy's figures for one agent, or undefined when none of its requests went through it. */
  proxyTally(agentId: string): ProxyTally | undefined {
    return selectProxyTally(this.#conn, agentId);
  }

  // --- Usage ledger and OAuth usage polls ------------------------------------------------------

  /**
   * Appends one turn's token and cost deltas for agent `agentId` at `ts`.
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  recordTurnUsage(agentId: string, ts: number, usage: TurnUsage): void {
    this.#conn.immediate(() => insertLedgerRow(this.#conn, this.#keyOf(agentId), ts, usage));
  }

  /** Usage summed over `[since, until)`. */
  usageSums(since: number, until: number): UsageSums {
    return selectUsageSums(this.#conn, since, until);
  }

  /** Usage per agent over `[since, until)`, most expensive first (only `agentId` when given). */
  usageByAgent(since: number, until: number, limit: number, agentId?: string): AgentUsage[] {
    return selectUsageByAgent(
      this.#conn,
      since,
      until,
      clampLimit(limit, "read usage"),
      agentId,
    );
  }

  /** Usage in buckets of `bucketMs` over `[since, until)` (at most 1000 buckets). */
  usageSeries(since: number, until: number, bucketMs: number): UsageBucket[] {
    if (!(bucketMs > 0) || (until - since) / bucketMs > 1000) {
      throw new RangeError("Cannot read usage series: at most 1000 buckets of > 0 ms");
    }
    return selectUsageSeries(this.#conn, since, until, bucketMs);
  }

  /** Stores one OAuth usage reading; returns its id. */
  recordOauthPoll(poll: OauthPollInput): number {
    return this.#conn.immediate(() => insertOauthPollRow(this.#conn, poll));
  }

  /** The newest OAuth usage reading (only successful ones when `okOnly`). */
  latestOauthPoll(okOnly = false): OauthPoll | undefined {
    return selectLatestOauthPoll(this.#conn, okOnly);
  }

  /** Deletes snapshots and OAuth readings older than `before` (the newest reading stays). */
  pruneUsage(before: number): { snapshots: number; polls: number } {
    return this.#conn.immediate(() => ({
      snapshots: deleteSnapshotsBefore(this.#conn, before),
      polls: deleteOauthPollsBefore(this.#conn, before),
    }));
  }

  // --- Work tree snapshots and commits (commit shadow) -----------------------------------------

  /**
   * Stores the work tree state of agent `agentId` at its first start; a later call keeps the
   * first. Returns whether this call stored it.
   */
  saveWorktreeSnapshot(agentId: string, snapshot: WorktreeSnapshot): boolean {
    return this.#conn.immediate(() =>
      insertWorktreeRow(this.#conn, this.#keyOf(agentId), snapshot)
    );
  }

  worktreeSnapshot(agentId: string): WorktreeSnapshot | undefined {
    const head = selectAgentHead(this.#conn, agentId);
    return head ? selectWorktreeRow(this.#conn, head.agent_key) : undefined;
  }

  /** Other agents that started in the same git toplevel as agent `agentId`. */
  worktreeNeighbours(agentId: string, toplevel: string): WorktreeNeighbour[] {
    return selectWorktreeNeighbours(this.#conn, toplevel, this.#keyOf(agentId));
  }

  /** Stores the commit message proposed for agent `agentId` (unless it was committed already). */
  saveCommitProposal(agentId: string, proposal: Omit<CommitRecord, "sha" | "committed_at">): void {
    this.#conn.immediate(() => upsertCommitProposal(this.#conn, this.#keyOf(agentId), proposal));
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
      updateCommitMade(this.#conn, this.#keyOf(agentId), made, Date.now())
    );
  }

  #keyOf(agentId: string): number {
    const head = selectAgentHead(this.#conn, agentId);
    if (!head) throw new AgentNotFoundError(agentId);
    return head.agent_key;
  }
}
