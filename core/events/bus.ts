import type { Agent } from "../models/mod.ts";

/** A committed change. `id` is the durable event id (events table rowid), strictly increasing. */
export type EngineEvent =
  | { kind: "agent"; id: number; agent: Agent }
  | {
    kind: "message";
    id: number;
    agent_id: string;
    seq: number;
    ts: number;
    type: string | null;
    subtype: string | null;
    parse_error: boolean;
    /** The stored bytes, verbatim. */
    bytes: Uint8Array;
  }
  | {
    /** The agent and its lines were deleted (a tombstone: stored, and replayed, like the rest). */
    kind: "agent_deleted";
    id: number;
    agent_id: string;
    /** When it was deleted, epoch ms. */
    ts: number;
  };

export type EventListener = (event: EngineEvent) => void;

/**
 * In-process fan-out of committed events. Publishers call it only after the SQLite commit that
 * made the change durable returned; a throwing listener never disturbs the others.
 */
export class EventBus {
  #listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: EngineEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        console.error(`Cannot deliver event ${event.id}: listener threw`, err);
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }
}
