import type { Agent, Approval } from "../models/mod.ts";

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
    /** A permission prompt was stored, or answered (stored and replayed like the rest). */
    kind: "approval";
    id: number;
    agent_id: string;
    approval: Approval;
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
 * Live text of a running agent (`--include-partial-messages`): ephemeral, so it has no event id,
 * is never stored or replayed, and is the first thing dropped for a slow reader.
 */
export interface DeltaEvent {
  agent_id: string;
  /** The API message the text belongs to, or null. */
  message_id: string | null;
  /** Content block index within the message. */
  index: number;
  kind: "text" | "thinking";
  text: string;
  parent_tool_use_id: string | null;
}

export type DeltaListener = (delta: DeltaEvent) => void;

/**
 * In-process fan-out of committed events. Publishers call it only after the SQLite commit that
 * made the change durable returned; a throwing listener never disturbs the others.
 */
export class EventBus {
  #listeners = new Set<EventListener>();
  #deltaListeners = new Set<DeltaListener>();

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

  /** Live text deltas (not committed anywhere: see {@linkcode DeltaEvent}). */
  subscribeDeltas(listener: DeltaListener): () => void {
    this.#deltaListeners.add(listener);
    return () => this.#deltaListeners.delete(listener);
  }

  publishDelta(delta: DeltaEvent): void {
    for (const listener of this.#deltaListeners) {
      try {
        listener(delta);
      } catch (err) {
        console.error("Cannot deliver a delta: listener threw", err);
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }
}
