/**
 * The store's outbox: what a write transaction changed, handed on only after its COMMIT returned
 * (the ack rule made structural: no caller publishes by hand).
 */
import type { Agent, Approval } from "../models/mod.ts";

/**
 * One committed change to an agent. `id` is the durable event id (events table rowid) the change
 * was recorded under, so it is strictly increasing in commit order.
 */
export type StoreChange =
  | { kind: "agent"; id: number; agent: Agent }
  | { kind: "approval"; id: number; approval: Approval }
  | {
    /** The agent and its lines were deleted; this tombstone is the one event left of it. */
    kind: "agent_deleted";
    id: number;
    agent_id: string;
    /** When it was deleted, epoch ms. */
    ts: number;
  };

/** Receives the changes of one committed transaction, in event id order. */
export type OnStoreCommit = (changes: readonly StoreChange[]) => void;

/**
 * Collects the changes of the open transaction: on COMMIT they are delivered, on ROLLBACK
 * dropped. A transaction committed while a delivery runs (a listener that writes) is delivered
 * after it, so the receiver sees event ids in commit order.
 */
export class Outbox {
  #onCommit: OnStoreCommit | undefined;
  #pending: StoreChange[] = [];
  #ready: StoreChange[][] = [];
  #delivering = false;

  constructor(onCommit?: OnStoreCommit) {
    this.#onCommit = onCommit;
  }

  /** Records a change of the transaction in progress. */
  add(change: StoreChange): void {
    if (this.#onCommit) this.#pending.push(change);
  }

  /** The transaction committed: deliver what it changed. */
  committed(): void {
    if (this.#pending.length === 0) return;
    this.#ready.push(this.#pending);
    this.#pending = [];
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let batch = this.#ready.shift(); batch; batch = this.#ready.shift()) {
        try {
          this.#onCommit!(batch);
        } catch (err) {
          // The changes are durable; a failing receiver must not turn the write into an error.
          console.error(`Cannot run the store's onCommit: ${String(err)}`);
        }
      }
    } finally {
      this.#delivering = false;
    }
  }

  /** The transaction rolled back: nothing of it happened. */
  rolledBack(): void {
    this.#pending = [];
  }
}
