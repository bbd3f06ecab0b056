/**
 * From what the store committed to engine events: the one place a committed line, agent row or
 * tombstone becomes an {@linkcode EngineEvent}. Both factories return the `onCommit` callback the
 * store and the `MessageWriter` run after their COMMIT, so publishing needs no caller's care.
 */
import type { CommittedBatch, StoreChange } from "../store/mod.ts";
import type { EngineEvent, EventBus } from "./bus.ts";

/** The events of one `MessageWriter` batch: its lines, then the agent rows a line patched. */
export function eventsOfBatch(batch: CommittedBatch): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const line of batch.lines) {
    events.push({
      kind: "message",
      id: line.event_id,
      agent_id: line.agent_id,
      seq: line.seq,
      ts: line.ts,
      type: line.type,
      subtype: line.subtype,
      parse_error: line.parse_error,
      bytes: line.bytes,
    });
  }
  for (const agent of batch.agents) {
    const id = batch.agentEventIds.get(agent.id);
    if (id !== undefined) events.push({ kind: "agent", id, agent });
  }
  return events;
}

/** The event of one committed store change (an agent row or a tombstone). */
export function eventOfChange(change: StoreChange): EngineEvent {
  if (change.kind === "agent") return { kind: "agent", id: change.id, agent: change.agent };
  if (change.kind === "approval") {
    return {
      kind: "approval",
      id: change.id,
      agent_id: change.approval.agent_id,
      approval: change.approval,
    };
  }
  return { kind: "agent_deleted", id: change.id, agent_id: change.agent_id, ts: change.ts };
}

/** The `MessageWriter`'s `onCommit`: publishes each committed batch on `bus`. */
export function publishBatches(bus: EventBus): (batch: CommittedBatch) => void {
  return function publishBatch(batch) {
    for (const event of eventsOfBatch(batch)) bus.publish(event);
  };
}

/** The store's `onCommit`: publishes each committed change on `bus`. */
export function publishChanges(bus: EventBus): (changes: readonly StoreChange[]) => void {
  return function publishChange(changes) {
    for (const change of changes) bus.publish(eventOfChange(change));
  };
}

/**
 * Publishes the store's changes and the `MessageWriter`'s batches on `bus` in event id order.
 * The writer commits in a worker thread on a connection of its own, so a store transaction on the
 * event loop can commit (and take later ids) while a batch is out, or take earlier ids and be
 * delivered before the batch comes back. While a batch is out, the store's changes are held; when
 * it is back, they go out together with its events, sorted by id. Ids only grow on the bus, which
 * SSE resume (`Last-Event-ID`) relies on. Nothing is published before its COMMIT returned.
 */
export class CommitSequencer {
  #bus: EventBus;
  #out = false;
  #held: EngineEvent[] = [];

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  /** The store's `onCommit`. */
  readonly changes = (changes: readonly StoreChange[]): void => {
    const events = changes.map(eventOfChange);
    if (this.#out) this.#held.push(...events);
    else this.#publish(events);
  };

  /** The writer's `onCommit`. */
  readonly batch = (batch: CommittedBatch): void => {
    const events = eventsOfBatch(batch);
    if (this.#held.length === 0) return this.#publish(events);
    const merged = this.#held.concat(events).sort((a, b) => a.id - b.id);
    this.#held = [];
    this.#publish(merged);
  };

  /** The writer's `onBatch`: a batch went out (`begin`) or came back (`end`). */
  readonly onBatch = (phase: "begin" | "end"): void => {
    this.#out = phase === "begin";
    if (this.#out || this.#held.length === 0) return;
    const held = this.#held;
    this.#held = [];
    this.#publish(held);
  };

  #publish(events: readonly EngineEvent[]): void {
    for (const event of events) this.#bus.publish(event);
  }
}
