/**
 * The delete cascade: a terminal agent goes with its stored lines, its finished shadows and its
 * private state directory. Each delete commits a tombstone, which the store's outbox publishes.
 * @module
 */
import { InvalidStateError, TERMINAL_STATUSES } from "../models/mod.ts";
import { AgentNotFoundError, type MessageWriter, type Store } from "../store/mod.ts";
import { removeAgentState } from "./home_mcp.ts";
import type { AgentRun } from "./run.ts";
import type { SupervisorLog } from "./types.ts";

export interface DeleteOptions {
  store: Store;
  writer: MessageWriter;
  /** The live run of an agent, if any. */
  runOf(id: string): AgentRun | undefined;
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
  // session of a failed agent is ended first.
  options.runOf(id)?.session.endSession();
  await options.runOf(id)?.done;
  // Before any row goes: a refusal (unmerged work) leaves the agent as it was.
  await options.removeWorktree?.(id);
  await writer.flush();
  // Its finished shadows go with it; a shadow still running is left to finish on its own.
  const shadows = agent.kind === "shadow"
    ? []
    : store.listAgents({ parent_id: id, kinds: ["shadow"], limit: 1000 }).agents;
  for (const shadow of shadows) {
    if (!TERMINAL_STATUSES.includes(shadow.status) || options.runOf(shadow.id)) continue;
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
