/** `StorageMonitor`: whether the database currently takes writes, for health and back-off. */
import { messageOf } from "./errors.ts";
import type { StorageFault } from "./db.ts";

/** `ok`, or why writes are failing right now. */
export type StorageState = "ok" | "storage_full" | "storage_busy" | "storage_io_error";

/** A snapshot of {@linkcode StorageMonitor}. */
export interface StorageStatus {
  state: StorageState;
  /** When the current fault began (epoch ms); null when `ok`. */
  since: number | null;
  /** The newest failure's message (kept after recovery, for the record). */
  last_error: string | null;
  /** Failed attempts since the fault began (0 when `ok`). */
  retries: number;
  /** Whether the fault has lasted at least `boundMs`. */
  over_bound: boolean;
  /** How long a fault may last before agents should be paused, ms. */
  bound_ms: number;
}

const STATE_OF: Record<StorageFault, StorageState> = {
  full: "storage_full",
  busy: "storage_busy",
  io: "storage_io_error",
};

/** Options for {@linkcode StorageMonitor}. */
export interface StorageMonitorOptions {
  /** A fault lasting this long is reported as `over_bound`. Default 300,000 (5 min). */
  boundMs?: number;
  /** Called when the state changes (fault begins, kind changes, recovered, bound crossed). */
  onChange?: (status: StorageStatus) => void;
}

/**
 * Tracks storage faults reported by every writer of the database (the line writer and the
 * supervisor's own writes): `fault()` on a failed attempt, `ok()` on a successful one.
 */
export class StorageMonitor {
  #state: StorageState = "ok";
  #since: number | null = null;
  #lastError: string | null = null;
  #retries = 0;
  #boundMs: number;
  #overBound = false;
  #onChange: ((status: StorageStatus) => void) | undefined;

  constructor(options: StorageMonitorOptions = {}) {
    const boundMs = options.boundMs ?? 300_000;
    if (!Number.isSafeInteger(boundMs) || boundMs < 0) {
      throw new RangeError(
        `Cannot create storage monitor: boundMs must be an integer >= 0, got ${boundMs}`,
      );
    }
    this.#boundMs = boundMs;
    this.#onChange = options.onChange;
  }

  /** Whether writes are failing. */
  get failing(): boolean {
    return this.#state !== "ok";
  }

  /** Records a failed write attempt. */
  fault(kind: StorageFault, err: unknown, now = Date.now()): void {
    const state = STATE_OF[kind];
    const changed = state !== this.#state;
    if (this.#state === "ok") {
      this.#since = now;
      this.#retries = 0;
    }
    this.#state = state;
    this.#retries++;
    this.#lastError = messageOf(err);
    const crossed = !this.#overBound && now - this.#since! >= this.#boundMs;
    if (crossed) this.#overBound = true;
    if (changed || crossed) this.#emit(now);
  }

  /** Records a successful write. */
  ok(): void {
    if (this.#state === "ok") return;
    this.#state = "ok";
    this.#since = null;
    this.#retries = 0;
    this.#overBound = false;
    this.#emit();
  }

  /** The current state. */
  status(now = Date.now()): StorageStatus {
    return {
      state: this.#state,
      since: this.#since,
      last_error: this.#lastError,
      retries: this.#retries,
      over_bound: this.#since !== null && now - this.#since >= this.#boundMs,
      bound_ms: this.#boundMs,
    };
  }

  #emit(now = Date.now()): void {
    try {
      this.#onChange?.(this.status(now));
    } catch {
      // A failing listener must not turn a storage fault into a crash.
    }
  }
}
