/** `MessageWriter`: the single writer of stdout lines, with group commit. */
import { type Connection, connectionOf } from "./_connection.ts";
import { MIN_BUSY_TIMEOUT_MS, type StorageFault } from "./db.ts";
import {
  AGENT_SELECT_LIST,
  type AgentPatch,
  checkPatch,
  patchAssignments,
  toAgent,
} from "./agents.ts";
import { AgentNotFoundError, messageOf, StorageError } from "./errors.ts";
import type { Store } from "./store.ts";
import { StorageMonitor } from "./storage_state.ts";
import { type BatchOutcome, commitBatch, type CommitRequest } from "./writer_commit.ts";
import { WriterThread } from "./writer_thread.ts";

export type * from "./writer_types.ts";
import type {
  AppendResult,
  CommittedBatch,
  CommittedLine,
  MessageWriterOptions,
  PendingLine,
  WriterStatus,
} from "./writer_types.ts";

interface Queued {
  line: PendingLine;
  size: number;
  resolve: (result: AppendResult) => void;
  reject: (err: Error) => void;
}

/**
 * The busy window is this many times the last commit's cost: an inline writer's event loop then
 * spends at most 1 / (1 + factor) of its time committing lines, and a line waits about two
 * commits. (With the worker, lines arriving while a batch commits go next without a window.)
 */
export const COMMIT_COST_FACTOR = 2;

/** Charged per queued line on top of its bytes, so floods of tiny lines also hit the limit. */
const LINE_OVERHEAD_BYTES = 128;

function intAtLeast(value: number, min: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot create message writer: ${name} must be an integer >= ${min}, got ${value}`,
    );
  }
  return value;
}

/**
 * Stores stdout lines in group commits: one `BEGIN IMMEDIATE` transaction per batch of up to
 * `maxRows` lines, committed when that many are queued or `maxDelayMs` after the first, whichever
 * comes first. Each line gets the next `seq` of its agent and a `message` event; each agent the
 * batch touched gets its `last_seq` (and any `agentPatch`, later lines winning per field). An
 * append's promise resolves only after its transaction committed and `onCommit` ran (the ack rule).
 *
 * The transactions run in a worker thread on a connection of its own (unless `inline`), so a slow
 * commit or a lock held by another process never blocks the event loop; lines appended while a
 * batch commits form the next batch. One batch is in flight at a time.
 *
 * Seqs are assigned inside the transaction from `agents.last_seq`, so a failed batch (rolled back)
 * leaves no gap: the next lines of those agents take the same seqs.
 *
 * A storage fault (disk full, lock held past busy_timeout, I/O error; see `storageFaultOf`) fails
 * nothing: the batch is rolled back and kept, in order, ahead of later lines; the writer reports the
 * fault to its {@linkcode StorageMonitor}, retries with exponential back-off and, while it fails,
 * `capacity()` holds every producer back (so children block on their pipes instead of lines piling
 * up). Once a retry commits, everything held is committed in append order. Any other error rejects
 * its batch's lines with `StorageError`.
 *
 * @example
 * ```ts
 * const writer = new MessageWriter(store, { onCommit: (batch) => publish(batch) });
 * const { seq } = await writer.append({ agentId, bytes, ts: Date.now(), type: "system",
 *   subtype: "init", parseError: false, eofNoNewline: false });
 * await writer.close();
 * ```
 */
export class MessageWriter {
  #conn: Connection;
  /** The worker that commits; null for an inline writer (commits on `#conn`). */
  #thread: WriterThread | null;
  #maxDelayMs: number;
  #idleDelayMs: number;
  /** When the last batch committed (performance.now()); -Infinity before the first. */
  #lastCommitAt = -Infinity;
  /** How long the last drain's commits took, ms. */
  #lastCommitCostMs = 0;
  #maxRows: number;
  #maxQueuedBytes: number;
  #onCommit: ((batch: CommittedBatch) => void) | undefined;
  #onBatch: ((phase: "begin" | "end") => void) | undefined;
  #beforeCommit: (() => void) | undefined;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  /** Lines of the batch being committed. */
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #scheduled = false;
  #draining = false;
  #closed = false;
  /** Agents known to exist, so append checks the database once per agent. */
  #known = new Set<string>();
  #capacityWaiters: Array<() => void> = [];
  #flushWaiters: Array<() => void> = [];
  #monitor: StorageMonitor;
  #retryMinMs: number;
  #retryMaxMs: number;
  /** The fault the last attempt hit; null while commits succeed (and while a retry is out). */
  #fault: StorageFault | null = null;
  /** From a fault until a batch settles again: producers stay held during the retries too. */
  #retrying = false;
  #retryDelayMs = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** After `giveUp()`: faults reject lines instead of holding them. */
  #givenUp = false;

  /** A writer for `store`'s database; use one per store (it is the only writer of lines). */
  constructor(store: Store, options: MessageWriterOptions = {}) {
    this.#conn = connectionOf(store);
    this.#beforeCommit = options.beforeCommit;
    const inline = options.inline ??
      (store.path === ":memory:" || this.#beforeCommit !== undefined);
    if (!inline && this.#beforeCommit !== undefined) {
      throw new TypeError("Cannot create message writer: beforeCommit needs inline: true");
    }
    const busyTimeoutMs = intAtLeast(
      options.busyTimeoutMs ?? MIN_BUSY_TIMEOUT_MS,
      MIN_BUSY_TIMEOUT_MS,
      "busyTimeoutMs",
    );
    this.#thread = inline ? null : new WriterThread({ path: store.path, busyTimeoutMs });
    // The store's writes wait out this writer's commits (as long as the writer would wait for
    // theirs): the daemon's own load never turns into `busy` for a client.
    if (this.#thread !== null) this.#conn.shareWriteLock(this.#thread.lock, busyTimeoutMs);
    this.#maxDelayMs = intAtLeast(options.maxDelayMs ?? 50, 0, "maxDelayMs");
    this.#idleDelayMs = Math.min(
      this.#maxDelayMs,
      intAtLeast(options.idleDelayMs ?? this.#maxDelayMs, 0, "idleDelayMs"),
    );
    this.#maxRows = intAtLeast(options.maxRows ?? 1000, 1, "maxRows");
    this.#maxQueuedBytes = intAtLeast(
      options.maxQueuedBytes ?? 64 * 1024 * 1024,
      1,
      "maxQueuedBytes",
    );
    this.#onCommit = options.onCommit;
    this.#onBatch = options.onBatch;
    this.#monitor = options.monitor ?? new StorageMonitor();
    this.#retryMinMs = intAtLeast(options.retryMinMs ?? 100, 1, "retryMinMs");
    this.#retryMaxMs = Math.max(
      this.#retryMinMs,
      intAtLeast(options.retryMaxMs ?? 5_000, 1, "retryMaxMs"),
    );
  }

  /** The monitor this writer reports storage faults to. */
  get monitor(): StorageMonitor {
    return this.#monitor;
  }

  /**
   * Resolves once the writer can commit: its worker thread runs and has the database open (at
   * once for an inline writer). Optional (the first batch starts the worker), but a daemon awaits
   * it at start so the first line does not wait for the thread, and a database the worker cannot
   * open fails the start.
   */
  ready(): Promise<void> {
    return this.#thread?.ready() ?? Promise.resolve();
  }

  /** Storage state and what is held back. */
  status(): WriterStatus {
    return {
      ...this.#monitor.status(),
      held_lines: this.#queue.length + this.#inFlight,
      held_bytes: this.#queuedBytes,
    };
  }

  /**
   * Queues a line. Resolves with its seq and event id once committed; rejects with
   * `AgentNotFoundError` for an unknown agent, `TypeError` for a bad line or patch, `StorageError`
   * when its transaction failed.
   */
  append(line: PendingLine): Promise<AppendResult> {
    try {
      if (this.#closed) throw new Error("Cannot append line: the writer is closed");
      const queued = this.#check(line);
      const { promise, resolve, reject } = Promise.withResolvers<AppendResult>();
      this.#queue.push({
        line: queued,
        size: queued.bytes.byteLength + LINE_OVERHEAD_BYTES,
        resolve,
        reject,
      });
      this.#queuedBytes += queued.bytes.byteLength + LINE_OVERHEAD_BYTES;
      this.#arm();
      return promise;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Back-pressure: undefined while the queue holds less than `maxQueuedBytes` (and, while a batch
   * commits, less than a full batch waits behind it) and storage takes writes, else a promise
   * that resolves once commits brought it below and no fault is pending. Readers await it before
   * reading more.
   */
  capacity(): Promise<void> | undefined {
    if (this.#hasRoom()) return undefined;
    return new Promise((resolve) => this.#capacityWaiters.push(resolve));
  }

  /**
   * Commits everything queued now; resolves when the queue is empty (lines may have failed). While
   * storage fails, that is once a retry got everything committed.
   */
  flush(): Promise<void> {
    if (this.#fault === null) this.#drain();
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  /** Flushes and stops (ending the worker thread); later appends reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#thread?.close();
    if (this.#thread !== null) this.#conn.shareWriteLock(undefined);
    this.#notify();
  }

  /**
   * Stops holding lines for storage to come back (the daemon is stopping): held lines are tried
   * once more now and, if storage still fails, rejected with `StorageError`; so are later faults.
   */
  giveUp(): void {
    this.#givenUp = true;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#fault !== null) {
      this.#fault = null;
      this.#drain();
    }
  }

  /** Forgets agent `agentId` (after it was deleted): its next append checks the database again. */
  forgetAgent(agentId: string): void {
    this.#known.delete(agentId);
  }

  #check(line: PendingLine): PendingLine {
    if (!(line.bytes instanceof Uint8Array)) {
      throw new TypeError("Cannot append line: bytes must be a Uint8Array");
    }
    if (!Number.isSafeInteger(line.ts)) {
      throw new TypeError(`Cannot append line: ts must be an integer, got ${line.ts}`);
    }
    if (line.agentPatch) checkPatch(line.agentPatch, `append line of agent "${line.agentId}"`);
    if (!this.#known.has(line.agentId)) {
      const found = this.#conn.prepare("SELECT 1 FROM agents WHERE id = ?").get(line.agentId);
      if (!found) throw new AgentNotFoundError(line.agentId);
      this.#known.add(line.agentId);
    }
    // Copy the patch: the caller may reuse its object before the batch commits.
    return line.agentPatch ? { ...line, agentPatch: { ...line.agentPatch } } : line;
  }

  /** How long the first line of a new batch waits for company. */
  #window(): number {
    const idle = performance.now() - this.#lastCommitAt >= this.#maxDelayMs;
    if (idle) return this.#idleDelayMs;
    const adaptive = Math.ceil(this.#lastCommitCostMs * COMMIT_COST_FACTOR);
    return Math.min(this.#maxDelayMs, Math.max(this.#idleDelayMs, adaptive));
  }

  /** Arranges for the queue to be committed: at once when a batch is full, else after the window. */
  #arm(): void {
    // The retry timer, or the drain in progress (when its batch is back), commits the queue.
    if (this.#fault !== null || this.#draining) return;
    if (this.#queue.length >= this.#maxRows || this.#queuedBytes >= this.#maxQueuedBytes) {
      this.#schedule();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#drain();
      }, this.#window());
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#drain();
    });
  }

  #hasRoom(): boolean {
    if (this.#closed) return true;
    // While a batch is out, one full batch waiting behind it keeps the worker busy; more would
    // only pile up (and be held at once if that batch hits a fault).
    const behind = this.#draining && this.#queue.length >= this.#maxRows;
    return this.#fault === null && !this.#retrying && !behind &&
      this.#queuedBytes < this.#maxQueuedBytes;
  }

  #idle(): boolean {
    return this.#queue.length === 0 && !this.#draining;
  }

  #drain(): void {
    if (this.#draining) return; // the running drain picks up whatever was queued meanwhile
    if (this.#fault !== null) return; // the retry timer drains
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#queue.length === 0) return this.#notify();
    if (this.#thread === null && this.#conn.db.isOpen && this.#conn.db.isTransaction) {
      // A Store.write() is open on this connection (we were called from inside it): retry after it.
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#drain();
      }, 0);
      return;
    }
    this.#draining = true;
    this.#drainAll().catch((err) => {
      // #commit settles every line itself; this is a bug, and must not leave the writer stuck.
      console.error(`Cannot store lines: ${messageOf(err)}`);
    }).finally(() => {
      this.#draining = false;
      // Lines appended after the loop's last look at the queue.
      if (this.#queue.length > 0) this.#arm();
      this.#notify();
    });
  }

  /** Commits batches until the queue is empty or storage fails. */
  async #drainAll(): Promise<void> {
    // Lines appended meanwhile (while a batch commits, or from onCommit) land in the fresh queue
    // and go next, as one batch.
    // The window follows what the transactions cost, not the round trips to the worker: those
    // grow with the event loop's own load (e.g. fanning events out) and would stretch the wait
    // for company beyond what batching saves.
    let costMs = 0;
    drain: while (this.#queue.length > 0) {
      const pending = this.#queue;
      this.#queue = [];
      this.#notify(); // producers held behind the last batch may read again
      for (let i = 0; i < pending.length; i += this.#maxRows) {
        const batch = pending.slice(i, i + this.#maxRows);
        this.#inFlight = pending.length - i;
        const { fault, cost } = await this.#commit(batch);
        costMs += cost;
        this.#inFlight = 0;
        if (fault !== null) {
          // Held lines go first, before anything appended meanwhile (e.g. from onCommit).
          this.#queue = pending.slice(i).concat(this.#queue);
          this.#onFault(fault);
          break drain;
        }
      }
      this.#lastCommitAt = performance.now();
    }
    this.#lastCommitCostMs = costMs;
  }

  #onFault(fault: StorageFault): void {
    this.#fault = fault;
    this.#retrying = true;
    this.#retryDelayMs = this.#retryDelayMs === 0
      ? this.#retryMinMs
      : Math.min(this.#retryMaxMs, this.#retryDelayMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#fault = null;
      this.#drain();
    }, this.#retryDelayMs);
  }

  #notify(): void {
    if (this.#hasRoom()) {
      for (const resolve of this.#capacityWaiters.splice(0)) resolve();
    }
    if (this.#idle()) {
      for (const resolve of this.#flushWaiters.splice(0)) resolve();
    }
  }

  /** Commits `batch`; returns the storage fault that kept it (rolled back, nothing settled), or null. */
  async #commit(batch: Queued[]): Promise<{ fault: StorageFault | null; cost: number }> {
    const request = commitRequestOf(batch);
    this.#onBatch?.("begin");
    try {
      const outcome: BatchOutcome = this.#thread === null
        ? commitBatch(this.#conn, request, this.#beforeCommit)
        : await this.#thread.commit(request);
      return { fault: this.#settle(batch, outcome), cost: outcome.ok ? outcome.costMs : 0 };
    } finally {
      this.#onBatch?.("end");
    }
  }

  /** Settles `batch` by its outcome: acks (after onCommit), rejections, or the fault to hold it for. */
  #settle(batch: Queued[], outcome: BatchOutcome): StorageFault | null {
    let batchBytes = 0;
    for (const item of batch) batchBytes += item.size;
    if (!outcome.ok) {
      const { fault } = outcome;
      if (fault !== null) this.#monitor.fault(fault, new Error(outcome.message));
      if (fault !== null && !this.#givenUp) return fault;
      this.#retrying = false;
      this.#queuedBytes -= batchBytes;
      const err = new StorageError(`Cannot store lines: ${outcome.message}`);
      for (const item of batch) item.reject(err);
      return null;
    }
    this.#queuedBytes -= batchBytes;
    this.#retrying = false;
    this.#retryDelayMs = 0;
    this.#monitor.ok();
    const lines: CommittedLine[] = [];
    for (let i = 0; i < batch.length; i++) {
      const result = outcome.results[i];
      if (!result) continue;
      const line = batch[i]!.line;
      lines.push({
        agent_id: line.agentId,
        seq: result.seq,
        event_id: result.eventId,
        ts: line.ts,
        type: line.type,
        subtype: line.subtype,
        byte_length: line.bytes.byteLength,
        parse_error: line.parseError,
        eof_no_newline: line.eofNoNewline,
        bytes: line.bytes,
      });
    }
    if (this.#onCommit) {
      try {
        this.#onCommit({
          lines,
          agents: outcome.rows.map(toAgent),
          agentEventIds: new Map(outcome.agentEventIds),
        });
      } catch (err) {
        // The lines are durable; a failing subscriber must not turn them into errors.
        console.error(`Cannot run onCommit: ${messageOf(err)}`);
      }
    }
    for (let i = 0; i < batch.length; i++) {
      const result = outcome.results[i];
      if (result) batch[i]!.resolve(result);
      else batch[i]!.reject(new AgentNotFoundError(batch[i]!.line.agentId));
    }
    return null;
  }
}

/** The transaction's view of `batch`: its lines, and per agent the merged patch as assignments. */
function commitRequestOf(batch: readonly Queued[]): CommitRequest {
  const merged = new Map<string, AgentPatch>();
  for (const { line } of batch) {
    if (line.agentPatch) {
      merged.set(line.agentId, mergePatch(merged.get(line.agentId), line.agentPatch));
    }
  }
  return {
    lines: batch.map((item) => item.line),
    patches: [...merged].map(([agentId, patch]) => [agentId, patchAssignments(patch)]),
    selectList: AGENT_SELECT_LIST,
  };
}

/** `patch` over `into`, field by field (later lines win). */
function mergePatch(into: AgentPatch | undefined, patch: AgentPatch): AgentPatch {
  const merged: Record<string, unknown> = { ...into };
  for (const [key, value] of Object.entries(patch)) if (value !== undefined) merged[key] = value;
  return merged as AgentPatch;
}
