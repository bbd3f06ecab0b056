/**
 * Internal: the `MessageWriter`'s worker thread. It owns the writer's own connection, so a commit
 * (an fsync, or a wait for a lock another process holds) blocks that thread, never the event loop.
 * A batch's outcome comes back only after its COMMIT returned in the worker (the ack rule).
 */
import type {
  BatchOutcome,
  CommitRequest,
  LineToStore,
  PatchAssignments,
} from "./writer_commit.ts";
import { WriteLockCell } from "./write_lock.ts";

/** A line without its bytes; the bytes of a batch travel packed in one transferred buffer. */
export interface LineMeta {
  agentId: string;
  length: number;
  ts: number;
  type: string | null;
  subtype: string | null;
  parseError: boolean;
  eofNoNewline: boolean;
}

/** Event loop → worker. */
export type WorkerRequest =
  | { kind: "open"; path: string; busyTimeoutMs: number; lock: SharedArrayBuffer }
  | {
    kind: "commit";
    id: number;
    lines: LineMeta[];
    bytes: Uint8Array;
    patches: Array<[string, PatchAssignments]>;
    selectList: string;
  }
  | { kind: "close" };

/** Worker → event loop. */
export type WorkerReply =
  | { kind: "opened"; error: string | null }
  | { kind: "done"; id: number; outcome: BatchOutcome }
  | { kind: "closed" };

/** Options of {@linkcode WriterThread}. */
export interface WriterThreadOptions {
  /** The database file (already created and migrated by the store). */
  path: string;
  /** The worker connection's `busy_timeout`, ms. */
  busyTimeoutMs: number;
}

/** Packs `lines` for the worker: metadata plus one buffer holding every line's bytes in order. */
export function packLines(
  lines: readonly LineToStore[],
): { lines: LineMeta[]; bytes: Uint8Array<ArrayBuffer> } {
  let total = 0;
  for (const line of lines) total += line.bytes.byteLength;
  // One copy: a line is often a view into a larger read buffer that must not travel with it.
  const bytes = new Uint8Array(total);
  const metas: LineMeta[] = [];
  let offset = 0;
  for (const line of lines) {
    bytes.set(line.bytes, offset);
    offset += line.bytes.byteLength;
    metas.push({
      agentId: line.agentId,
      length: line.bytes.byteLength,
      ts: line.ts,
      type: line.type,
      subtype: line.subtype,
      parseError: line.parseError,
      eofNoNewline: line.eofNoNewline,
    });
  }
  return { lines: metas, bytes };
}

/** The inverse of {@linkcode packLines} (in the worker): lines whose bytes are views of `bytes`. */
export function unpackLines(metas: readonly LineMeta[], bytes: Uint8Array): LineToStore[] {
  const lines: LineToStore[] = [];
  let offset = 0;
  for (const { length, ...meta } of metas) {
    lines.push({ ...meta, bytes: bytes.subarray(offset, offset + length) });
    offset += length;
  }
  return lines;
}

/**
 * The event loop's side of the worker: `commit()` hands a batch over and resolves with its
 * outcome. The worker starts with the first batch; batches are committed one after the other, in
 * the order they were handed over.
 */
export class WriterThread {
  #options: WriterThreadOptions;
  #worker: Worker | undefined;
  #nextId = 1;
  #pending = new Map<number, (outcome: BatchOutcome) => void>();
  #closed: PromiseWithResolvers<void> | undefined;
  #opened = Promise.withResolvers<void>();
  /** Why the worker is gone (it crashed); every later batch fails with it. */
  #dead: string | null = null;
  /** Marked by the worker while it holds the write lock (see `WriteLockCell`). */
  readonly lock: WriteLockCell = new WriteLockCell();

  constructor(options: WriterThreadOptions) {
    this.#options = options;
  }

  /**
   * Starts the worker (if it is not running yet) and resolves once its connection is open;
   * rejects when the database cannot be opened there.
   */
  ready(): Promise<void> {
    if (this.#dead !== null) {
      return Promise.reject(new Error(`Cannot open the writer: ${this.#dead}`));
    }
    this.#start();
    return this.#opened.promise;
  }

  /** Commits `batch` in the worker; never rejects (a failure is an outcome). */
  commit(batch: CommitRequest): Promise<BatchOutcome> {
    if (this.#dead !== null) return Promise.resolve(failed(this.#dead));
    const worker = this.#start();
    const id = this.#nextId++;
    const packed = packLines(batch.lines);
    const { promise, resolve } = Promise.withResolvers<BatchOutcome>();
    this.#pending.set(id, resolve);
    const request: WorkerRequest = {
      kind: "commit",
      id,
      ...packed,
      patches: batch.patches,
      selectList: batch.selectList,
    };
    worker.postMessage(request, [packed.bytes.buffer]);
    return promise;
  }

  /** Waits for the batches handed over, closes the worker's connection and ends the thread. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined || this.#dead !== null) return;
    if (this.#closed === undefined) {
      this.#closed = Promise.withResolvers<void>();
      worker.postMessage({ kind: "close" } satisfies WorkerRequest);
    }
    await this.#closed.promise;
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(new URL("./writer_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.kind === "opened") {
        if (reply.error === null) return this.#opened.resolve();
        // Every batch would fail the same way: end the thread, fail what is waiting.
        this.#fail(reply.error);
        worker.terminate();
        return;
      }
      if (reply.kind === "closed") {
        this.#dead = "the writer is closed";
        this.lock.released();
        worker.terminate();
        this.#closed?.resolve();
        return;
      }
      const resolve = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      resolve?.(reply.outcome);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(`the writer thread failed (${event.message})`);
      worker.terminate();
    };
    worker.onmessageerror = () => {
      this.#fail("the writer thread sent an unreadable reply");
      worker.terminate();
    };
    const open: WorkerRequest = {
      kind: "open",
      path: this.#options.path,
      busyTimeoutMs: this.#options.busyTimeoutMs,
      lock: this.lock.cell.buffer,
    };
    worker.postMessage(open);
    // Nobody may be waiting for it (the first commit started the worker).
    this.#opened.promise.catch(() => {});
    this.#worker = worker;
    return worker;
  }

  #fail(message: string): void {
    this.#dead = message;
    // A thread that died holding it holds nothing now: nobody may wait for it.
    this.lock.released();
    this.#opened.reject(new Error(`Cannot open the writer: ${message}`));
    for (const resolve of this.#pending.values()) resolve(failed(message));
    this.#pending.clear();
    this.#closed?.resolve();
  }
}

function failed(message: string): BatchOutcome {
  return { ok: false, fault: null, message };
}
