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
