/** Retrying the supervisor's own writes (run start and end) through storage faults. */
import { storageFaultOf, type StorageMonitor } from "../store/mod.ts";
import type { Log } from "@hero/service/log";

/** Options of {@linkcode retryStorage}. */
export interface RetryStorageOptions {
  /** What the write does, for the log ("record the end of a run"). */
  what: string;
  agentId: string;
  monitor: StorageMonitor;
  /** First wait after a failure, ms; doubles per failure up to `maxDelayMs`. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Stop retrying (e.g. the daemon is shutting down): the last error is thrown. */
  abandon?: () => boolean;
  log: Log;
}

/**
 * Runs the synchronous write `fn` until it succeeds. A storage fault (disk full, lock held, I/O
 * error) is reported to the monitor, logged once and retried with exponential back-off; any other
 * error is thrown at once, as is the last fault when `abandon()` says so.
 */
export async function retryStorage<T>(fn: () => T, options: RetryStorageOptions): Promise<T> {
  let delay = options.minDelayMs;
  let failures = 0;
  for (;;) {
    try {
      const result = fn();
      if (failures > 0) {
        options.monitor.ok();
        options.log("info", `recorded after ${failures} failed attempts: ${options.what}`, {
          agent: options.agentId,
        });
      }
      return result;
    } catch (err) {
      const fault = storageFaultOf(err);
      if (fault === null) throw err;
      options.monitor.fault(fault, err);
      if (options.abandon?.()) throw err;
      if (failures++ === 0) {
        options.log("warn", `Cannot ${options.what} yet; retrying`, {
          agent: options.agentId,
          error: String(err),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(options.maxDelayMs, delay * 2);
    }
  }
}

/**
 * {@linkcode retryStorage} for a write that may also complete later (a promise, such as a final
 * row committed in the shutdown's shared transaction): a storage fault it rejects with is retried
 * the same way, with the same `abandon()`.
 */
export async function retryWrite<T>(
  fn: () => T | Promise<T>,
  options: RetryStorageOptions,
): Promise<T> {
  for (;;) {
    const value = await retryStorage(fn, options);
    if (!(value instanceof Promise)) return value;
    try {
      return await value;
    } catch (err) {
      if (storageFaultOf(err) === null || options.abandon?.()) throw err;
      await new Promise((resolve) => setTimeout(resolve, options.minDelayMs));
    }
  }
}
