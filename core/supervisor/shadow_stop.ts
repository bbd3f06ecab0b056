/**
 * An agent's shadows stop with it: cancel and delete end every queued or running shadow of the
 * agent (a naming shadow retrying a stuck upstream, a commit shadow) with the same tree kill as
 * the agent's own run (stdin closed, SIGTERM, grace, SIGKILL of everything carrying its marker),
 * and resolve only once they are gone.
 * @module
 */
import { ACTIVE_STATUSES } from "../models/mod.ts";
import type { Store } from "../store/mod.ts";
import type { AgentRun } from "./run.ts";

export interface StopShadowsOptions {
  store: Store;
  /** The live run of an agent, if any. */
  runOf(id: string): AgentRun | undefined;
  /** Takes a queued agent out of the queue (it never starts). */
  dequeue(id: string): void;
}

/**
 * Stops every active shadow of `parentId` (`reason` goes on their rows); resolves when none of
 * their processes is left.
 */
export async function stopShadows(
  parentId: string,
  reason: string,
  options: StopShadowsOptions,
): Promise<void> {
  const { store } = options;
  const shadows = store.listAgents({
    parent_id: parentId,
    kinds: ["shadow"],
    statuses: ACTIVE_STATUSES,
    limit: 1000,
  }).agents;
  const runs: Promise<void>[] = [];
  for (const shadow of shadows) {
    const run = options.runOf(shadow.id);
    if (run) {
      run.requestStop({ code: "cancelled", message: reason, status: "cancelled" });
      runs.push(run.done);
      continue;
    }
    options.dequeue(shadow.id);
    store.transition(shadow.id, "cancelled", {
      cancel_requested_at: Date.now(),
      finished_at: Date.now(),
      error_code: "cancelled",
      error_message: reason,
    });
  }
  await Promise.all(runs);
}
