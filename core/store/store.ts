/** `Store`: the one front for agents, messages and events in one SQLite file. */
import { detachImportRows } from "./session_imports.ts";
import type { DatabaseSync } from "node:sqlite";
import {
  type Agent,
  type AgentStatus,
  assertTransition,
  canTransition,
  type Message,
  TERMINAL_STATUSES,
} from "../models/mod.ts";
import type { Connection } from "./_connection.ts";
import { migrate, openDatabase, type OpenDatabaseOptions } from "./db.ts";
import { AgentNotFoundError } from "./errors.ts";
import {
  type AgentPage,
  type AgentPatch,
  type AgentQuery,
  type AgentRow,
  checkNewAgent,
  checkPatch,
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
  statusSets,
  type StretchEnd,
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
import { deleteProxyRows, revokeProxyTokenRows } from "./proxy.ts";
import { type AgentIsolation, deleteWorktreeRows } from "./worktrees.ts";
import { agentKeyOf, connectionOf } from "./_store_core.ts";
import { ApprovalRecords } from "./_store_approvals.ts";
import { deleteApprovalRows } from "./approvals.ts";
import type { OnStoreCommit } from "./outbox.ts";

/** What {@linkcode Store.deleteAgent} recorded. */
export interface DeletedAgent {
  id: string;
  /** Id of the `agent_deleted` event. */
  event_id: number;
  /** Epoch ms. */
  deleted_at: number;
}

/** Options for {@linkcode openStore}. */
export interface OpenStoreOptions extends OpenDatabaseOptions {
  /**
   * Receives what each write transaction changed (agent rows, tombstones), after its COMMIT
   * returned and never for a rolled-back one: publish events from here, never by hand.
   */
  onCommit?: OnStoreCommit;
  /**
   * After migrating, writes on this connection wait at most this long for another connection's
   * lock, then fail with `BusyError`. For a store used on the event loop, whose waits block it
   * (the line writer's worker keeps `busyTimeoutMs`). Default: `busyTimeoutMs`.
   */
  writeWaitMs?: number;
}

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
    const wait = options.writeWaitMs;
    if (wait !== undefined) {
      if (!Number.isSafeInteger(wait) || wait < 0) {
        throw new RangeError(
          `Cannot open database ${path}: writeWaitMs must be an integer >= 0, got ${wait}`,
        );
      }
      db.exec(`PRAGMA busy_timeout = ${wait}`);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return new Store(path, db, options.onCommit);
}

/**
 * All reads and writes of the engine's state. Every write runs in a `BEGIN IMMEDIATE` transaction,
 * and every change to an agent or its lines appends an event in that same transaction; the
 * changed agent rows reach `onCommit` once the transaction committed.
 * Not constructible directly: use {@linkcode openStore}. Its proxy, usage and work tree records
 * live in the layers it extends (`_store_usage.ts`, `_store_worktrees.ts`).
 */
export class Store extends ApprovalRecords {
  #conn: Connection;

  /** @internal Use {@linkcode openStore}. */
  constructor(path: string, db: DatabaseSync, onCommit?: OnStoreCommit) {
    super(path, db, onCommit);
    this.#conn = connectionOf(this);
  }

  /** Records a changed row for the outbox of the open transaction; returns it as an `Agent`. */
  #changed(row: AgentRow, eventId: number): Agent {
    const agent = toAgent(row);
    this.#conn.outbox.add({ kind: "agent", id: eventId, agent });
    return agent;
  }

  /**
   * Inserts a new agent in status `queued` and records an `agent` event; with `isolation`, its
   * worktree row in the same transaction (`toplevel`: the worktree's top, where it runs).
   */
  insertAgent(
    a: NewAgent,
    isolation?: Omit<AgentIsolation, "created_at" | "merged_sha" | "merged_at" | "removed_at">,
  ): Agent {
    checkNewAgent(a);
    return this.#conn.immediate(() => {
      const now = Date.now();
      const row = insertAgentRow(this.#conn, a, now);
      if (isolation) this.insertIsolation(row.agent_key, isolation, isolation.worktree_path, now);
      return this.#changed(row, insertEvent(this.#conn, now, "agent", row.agent_key, null));
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
        statusSets(head.status, to, now),
        patch,
        now,
      );
      // A terminal agent's proxy tokens die in the same transaction as its status.
      if (TERMINAL_STATUSES.includes(to)) revokeProxyTokenRows(this.#conn, head.agent_key, now);
      return this.#changed(row, insertEvent(this.#conn, now, "agent", head.agent_key, null));
    });
  }

  /**
   * Moves many agents to `to` with the same patch in ONE transaction (recovery reconciles
   * thousands of rows; one fsync each would take seconds). Agents whose move is not allowed are
   * skipped; the moved rows are returned. `stretchEnd` `last_line`: a run found `running` after
   * the daemon stopped ends its active time at its newest stored line, not now.
   */
  transitionMany(
    ids: readonly string[],
    to: AgentStatus,
    patch?: AgentPatch,
    stretchEnd: StretchEnd = "now",
  ): Agent[] {
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
          statusSets(head.status, to, now, stretchEnd),
          patch,
          now,
        );
        if (TERMINAL_STATUSES.includes(to)) revokeProxyTokenRows(this.#conn, head.agent_key, now);
        moved.push(
          this.#changed(row, insertEvent(this.#conn, now, "agent", head.agent_key, null)),
        );
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
      return this.#changed(row, insertEvent(this.#conn, now, "agent", head.agent_key, null));
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
   * tombstone: the one event left of it) in the same transaction; the tombstone goes to the outbox.
   * The caller checks the agent is terminal and tells its `MessageWriter` (`forgetAgent`).
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
      deleteApprovalRows(this.#conn, head.agent_key);
      detachImportRows(this.#conn, head.agent_key);
      this.#conn.prepare("DELETE FROM agents WHERE agent_key = ?").run(head.agent_key);
      const now = Date.now();
      const eventId = insertTombstone(this.#conn, now, id);
      this.#conn.outbox.add({ kind: "agent_deleted", id: eventId, agent_id: id, ts: now });
      return { id, event_id: eventId, deleted_at: now };
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
    return selectMessages(
      this.#conn,
      agentKeyOf(this.#conn, agentId),
      agentId,
      afterSeq,
      limit,
      options,
    );
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
      agentKeyOf(this.#conn, agentId),
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
    return selectRawLines(this.#conn, agentKeyOf(this.#conn, agentId), afterSeq, limit);
  }

  /**
   * Whether agent `agentId` has a stored line with seq < `seq` (does not rely on seqs being
   * gap-free).
   * @throws {AgentNotFoundError} when there is no such agent.
   */
  hasMessageBefore(agentId: string, seq: number): boolean {
    return hasMessageBefore(this.#conn, agentKeyOf(this.#conn, agentId), seq);
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
    return countMessageRows(this.#conn, agentKeyOf(this.#conn, agentId));
  }

  /**
   * Events with id > `afterId`, oldest first, at most `limit` (clamped to 1000); only those of
   * agent `agentId` when given.
   * @throws {AgentNotFoundError} when `agentId` is given and there is no such agent.
   */
  readEvents(afterId: number, limit: number, agentId?: string): StoredEvent[] {
    const key = agentId === undefined ? undefined : agentKeyOf(this.#conn, agentId);
    return selectEvents(this.#conn, afterId, limit, key);
  }

  /** The highest event id assigned so far (0 when none). */
  lastEventId(): number {
    return selectLastEventId(this.#conn);
  }
}
