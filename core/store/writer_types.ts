/** The types of `MessageWriter` (lines in, committed batches out, options, status). */
import type { Agent } from "../models/mod.ts";
import type { AgentPatch } from "./agents.ts";
import type { StorageMonitor, StorageStatus } from "./storage_state.ts";
import type { LineToStore } from "./writer_commit.ts";

/**
 * One line to store (`bytes`: exactly as received, without its newline; `ts`: receive time).
 * `bytes` must not be changed until the append settles.
 */
export interface PendingLine extends LineToStore {
  /** Agent fields to update in the same transaction as the line (e.g. usage from a result line). */
  agentPatch?: AgentPatch;
}

/** A line as committed. */
export interface CommittedLine {
  agent_id: string;
  seq: number;
  event_id: number;
  ts: number;
  type: string | null;
  subtype: string | null;
  byte_length: number;
  parse_error: boolean;
  eof_no_newline: boolean;
  /** The appended bytes (the same object, not a copy). */
  bytes: Uint8Array;
}

/** What one transaction stored; given to `onCommit` after COMMIT returned. */
export interface CommittedBatch {
  /** In commit order (per agent, seq order). */
  lines: CommittedLine[];
  /** Every agent row the batch changed (`last_seq`, patches), as committed. */
  agents: Agent[];
  /** The `agent` event id of each agent whose row a line's `agentPatch` changed. */
  agentEventIds: Map<string, number>;
}

/** Options for {@linkcode MessageWriter}. */
export interface MessageWriterOptions {
  /**
   * Commit at most this long after the first line was queued. Default 50. Under load the window
   * is {@linkcode COMMIT_COST_FACTOR} times what the last transactions took (where they ran, not
   * the hand-off to the worker), clamped to [`idleDelayMs`, `maxDelayMs`]: cheap commits come
   * often (low latency), expensive ones (big batches, a slow disk) are amortised over more lines.
   */
  maxDelayMs?: number;
  /**
   * When nothing was committed for `maxDelayMs`, the writer is idle and the first new line is
   * committed after only this long (a lone line need not wait a whole batch window; under load
   * commits keep coming and batches stay full). Default: `maxDelayMs` (no shortcut).
   */
  idleDelayMs?: number;
  /** Commit as soon as this many lines are queued; never more per transaction. Default 1000. */
  maxRows?: number;
  /** `capacity()` asks producers to wait while queued lines hold this many bytes. Default 64 MiB. */
  maxQueuedBytes?: number;
  /** Called synchronously after each COMMIT, before the lines' promises resolve. */
  onCommit?: (batch: CommittedBatch) => void;
  /**
   * Called with `"begin"` when a batch is handed to its transaction and `"end"` when its outcome
   * is back (after `onCommit` when it committed). The store's own commits may land in between
   * (the worker commits on a connection of its own): a publisher holds them meanwhile so events
   * leave in id order (see `core/events` `CommitSequencer`).
   */
  onBatch?: (phase: "begin" | "end") => void;
  /**
   * Commit on the store's own connection, on the event loop, instead of in a worker thread.
   * Default: true for `:memory:` stores and when `beforeCommit` is given, else false.
   */
  inline?: boolean;
  /** `busy_timeout` of the worker thread's connection, ms. Default and minimum 5000 (T22). */
  busyTimeoutMs?: number;
  /**
   * Test hook: runs inside each transaction just before COMMIT; a throw fails the batch. Only for
   * an inline writer (it runs on the event loop).
   */
  beforeCommit?: () => void;
  /**
   * Where storage faults are reported (shared with the engine's other writers). Default: a
   * monitor of its own.
   */
  monitor?: StorageMonitor;
  /** First retry of a batch that hit a storage fault, ms; doubles per failure. Default 100. */
  retryMinMs?: number;
  /** Longest wait between retries, ms. Default 5000. */
  retryMaxMs?: number;
}

/** {@linkcode StorageStatus} plus what the writer holds back while storage fails. */
export interface WriterStatus extends StorageStatus {
  /** Lines appended but not yet committed. */
  held_lines: number;
  /** Their bytes (plus a fixed overhead per line). */
  held_bytes: number;
}

/** Where an appended line ended up. */
export interface AppendResult {
  seq: number;
  eventId: number;
}
