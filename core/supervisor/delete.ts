/**
 * The delete cascade: a terminal agent goes with its stored lines, its finished shadows and its
 * private state directory. Each delete commits a tombstone, which the store's outbox publishes.
 * @module
 */
import { InvalidStateError, TERMINAL_STATUSES } from "../models/mod.ts";
import { AgentNotFoundError, type MessageWriter, type Store } from "../store/mod.ts";
import { removeAgentState } from "./home_mcp.ts";
import type { AgentRun } from "./run.ts";
import { stopShadows } from "./shadow_stop.ts";
import type { SupervisorLog } from "./types.ts";

export interface DeleteOptions {
  store: Store;
  writer: MessageWriter;
  /** The live run of an agent, if any. */
  runOf(id: string): AgentRun | undefined;
  /** Takes a queued agent out of the queue (a queued shadow never starts). */
  dequeue(id: string): void;
  agentStateDir: string | null;
  log: SupervisorLog;
  /** Removes the agent's worktree and branch, if it has them; throws to refuse the delete. */
  removeWorktree?: (id: string) => Promise<void>;
}

/** Deletes terminal agent `id` with its lines, finished shadows and state directory. */
export async function deleteAgent(id: string, options: DeleteOptions): Promise<void> {
  const { store, writer } = options;
  const agent = store.getAgent(id);
  if (!agent) throw new AgentNotFoundError(id);
  if (!TERMINAL_STATUSES.includes(agent.status)) {
    throw new InvalidStateError(
      `Cannot delete agent "${id}": it is ${agent.status} (needs completed, failed or cancelled)`,
    );
  }
  // A completed agent's process may still be exiting (and its last lines being stored); a live
  // session of a failed agent is ended first. Its shadows (a commit shadow, a naming shadow
  // retrying) are stopped, then go with it.
  options.runOf(id)?.session.endSession();
  await options.runOf(id)?.done;
  // Before any row goes: a refusal (unmerged work) leaves the agent (and its shadows) as they were.
  await options.removeWorktree?.(id);
  // Its shadows stop with the same tree kill (a commit shadow, a naming shadow retrying).
  if (agent.kind !== "shadow") await stopShadows(id, "Its agent was deleted", options);
  const shadows = agent.kind === "shadow"
    ? []
    : store.listAgents({ parent_id: id, kinds: ["shadow"], limit: 1000 }).agents;
  await Promise.all(shadows.map((s) => options.runOf(s.id)?.done));
  await writer.flush();
  for (const shadow of shadows) {
    if (!TERMINAL_STATUSES.includes(shadow.status)) continue;
    store.deleteAgent(shadow.id);
    writer.forgetAgent(shadow.id);
  }
  store.deleteAgent(id);
  writer.forgetAgent(id);
  if (options.agentStateDir === null) return;
  try {
    removeAgentState(options.agentStateDir, id);
  } catch (err) {
    options.log("warn", "Cannot remove the agent's state directory", {
      agent: id,
      error: String(err),
    });
  }
}
