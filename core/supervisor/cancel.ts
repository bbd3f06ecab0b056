/**
 * Cancel: an agent without a run (queued, paused) ends at once; a running one is stopped with
 * everything it started and ends `cancelled` only when none of its processes is left.
 * @module
 */
import { type Agent, InvalidStateError } from "../models/mod.ts";
import { AgentNotFoundError, type Store } from "../store/mod.ts";
import type { AgentQueue } from "./queue.ts";
import type { AgentRun } from "./run.ts";
import type { QuotaGovernor } from "./pause.ts";

/** What a cancel needs of the supervisor. */
export interface CancelContext {
  store: Store;
  queue: AgentQueue;
  runs: ReadonlyMap<string, AgentRun>;
  quota: QuotaGovernor;
}

/** Cancels `id`; resolves with the `cancelled` row. */
export async function cancelAgent(id: string, ctx: CancelContext): Promise<Agent> {
  const { store, runs } = ctx;
  const agent = store.getAgent(id);
  if (!agent) throw new AgentNotFoundError(id);
  const run = runs.get(id);
  if ((agent.status === "queued" || agent.status === "paused") && !run) {
    ctx.queue.remove(id);
    const now = Date.now();
    const cancelled = store.transition(id, "cancelled", {
      cancel_requested_at: now,
      finished_at: now,
      error_code: "cancelled",
      error_message: agent.status === "paused"
        ? "Cancelled while paused"
        : "Cancelled before it started",
      ...(agent.status === "paused" ? { resume_at: null } : {}),
    });
    // A cancelled pause may have been what held the queue.
    if (agent.status === "paused") ctx.quota.tick();
    return cancelled;
  }
  if (agent.status !== "running" && agent.status !== "queued" || !run) {
    throw new InvalidStateError(`Cannot cancel agent "${id}": it is ${agent.status}`);
  }
  store.updateAgent(id, { cancel_requested_at: Date.now() });
  run.requestStop({ code: "cancelled", message: "Cancelled by request", status: "cancelled" });
  await run.done;
  const after = store.getAgent(id);
  if (!after) throw new AgentNotFoundError(id);
  // A pause that was already stopping the run won the stop; the cancel still ends the agent.
  return after.status === "paused" ? cancelAgent(id, ctx) : after;
}
