/**
 * Batches the proxy's writes (rate-limit snapshots, per-agent tallies) into one SQLite
 * transaction every `flushMs` (default 100 ms), off the request path: a response is never held
 * for an fsync, and a snapshot is durable well within a second.
 * @module
 */
import type { ProxyTallyDelta, RateLimitSnapshotInput, Store } from "../store/mod.ts";
import type { Log } from "@hero/service/log";

export class ProxyRecorder {
  #store: Pick<Store, "recordProxyActivity">;
  #log: Log;
  #flushMs: number;
  #snapshots: RateLimitSnapshotInput[] = [];
  #tallies: ProxyTallyDelta[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(store: Pick<Store, "recordProxyActivity">, log: Log, flushMs = 100) {
    this.#store = store;
    this.#log = log;
    this.#flushMs = flushMs;
  }

  snapshot(s: RateLimitSnapshotInput): void {
    this.#snapshots.push(s);
    this.#schedule();
  }

  tally(t: ProxyTallyDelta): void {
    this.#tallies.push(t);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    if (this.#closed) {
      this.flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#flushMs);
  }

  /** Writes everything pending now. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#snapshots.length === 0 && this.#tallies.length === 0) return;
    const snapshots = this.#snapshots;
    const tallies = this.#tallies;
    this.#snapshots = [];
    this.#tallies = [];
    try {
      this.#store.recordProxyActivity(snapshots, tallies);
    } catch (err) {
      this.#log("error", "Cannot record proxy usage", {
        error: err instanceof Error ? err.message : String(err),
        snapshots: snapshots.length,
        tallies: tallies.length,
      });
    }
  }

  /** Flushes; later records are written at once. */
  close(): void {
    this.#closed = true;
    this.flush();
  }
}
