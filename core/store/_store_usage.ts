/** Internal: the quota proxy's and the usage ledger's part of `Store`. */
import type { DatabaseSync } from "node:sqlite";
import type { Connection } from "./_connection.ts";
import { agentKeyOf, connectionOf, StoreCore } from "./_store_core.ts";
import { clampLimit, selectAgentHead } from "./agents.ts";
import type { OnStoreCommit } from "./outbox.ts";
import {
  type AgentUsage,
  deleteOauthPollsBefore,
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
  selectUsageCostUnder,
  selectUsageSeries,
  selectUsageSums,
  type TurnUsage,
  type UsageBucket,
  type UsageSums,
} from "./proxy.ts";

/** Proxy tokens (hashes only), rate-limit snapshots, tallies, the usage ledger, OAuth polls. */
export class UsageRecords extends StoreCore {
  #conn: Connection;

  /** @internal Use `openStore`. */
  constructor(path: string, db: DatabaseSync, onCommit?: OnStoreCommit) {
    super(path, db, onCommit);
    this.#conn = connectionOf(this);
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
      insertProxyTokenRow(
        this.#conn,
        agentKeyOf(this.#conn, agentId),
        tokenHash,
        Date.now(),
        expiresAt,
      )
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
    this.#conn.immediate(() =>
      insertLedgerRow(this.#conn, agentKeyOf(this.#conn, agentId), ts, usage)
    );
  }

  /** Usage summed over `[since, until)`. */
  usageSums(since: number, until: number): UsageSums {
    return selectUsageSums(this.#conn, since, until);
  }

  /** The cost over `[since, until)` of agents whose cwd is `dir` or below it (a cwd budget). */
  usageCostUnder(dir: string, since: number, until: number): number {
    return selectUsageCostUnder(this.#conn, dir, since, until);
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
}
