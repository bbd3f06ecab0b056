/**
 * The final row of a run: its exit status, and the terminal status of an agent still `running`
 * when its process ended (the stop reason, a storage fault, or an exit without a result). A run
 * being paused ends `paused` with its session kept.
 * @module
 */
import type { Agent } from "../models/mod.ts";
import type { AgentPatch, Store } from "../store/mod.ts";
import { type ClaudeProcess, exitFailure, type PermissionMode } from "../claude/mod.ts";
import type { StopReason } from "./types.ts";

/** Writes the run's final row (exit status; terminal status if still running); null if deleted. */
export function finishRow(
  store: Store,
  agentId: string,
  proc: ClaudeProcess,
  stop: StopReason | null,
  status: Deno.CommandStatus,
  storageError: unknown,
  turn: { permissionMode: PermissionMode },
): Agent | null {
  const agent = store.getAgent(agentId);
  if (!agent) return null; // deleted meanwhile
  const base: AgentPatch = {
    exit_code: status.signal ? null : status.code,
    exit_signal: status.signal ?? null,
    stderr_tail: proc.stderr.totalBytes > 0 ? proc.stderr.text() : null,
    stderr_truncated: proc.stderr.truncated,
  };
  if (agent.status !== "running") {
    // A pause that came too late (the turn had ended) leaves no pause behind.
    const clear: AgentPatch = stop?.status === "paused"
      ? { pause_reason: null, pause_window: null, resume_at: null, paused_at: null }
      : {};
    return store.updateAgent(agentId, { ...base, ...clear });
  }
  const finished_at = Date.now();
  if (stop?.status === "paused") {
    // The session stays: the next process resumes it (the row keeps reason and resume time).
    return store.transition(agentId, "paused", {
      ...base,
      ...stop.pause,
      error_code: null,
      error_message: stop.message,
      pending_permission_mode: turn.permissionMode,
    });
  }
  if (stop) {
    return store.transition(agentId, stop.status, {
      ...base,
      error_code: stop.code,
      error_message: stop.message,
      finished_at,
      ...(stop.resetsAt !== undefined ? { rate_limit_resets_at: stop.resetsAt } : {}),
    });
  }
  if (storageError) {
    return store.transition(agentId, "failed", {
      ...base,
      error_code: "storage_error",
      error_message: storageError instanceof Error ? storageError.message : String(storageError),
      finished_at,
    });
  }
  return store.transition(agentId, "failed", {
    ...base,
    ...exitFailure(status, proc.stderr.text()), // root_without_sandbox, exit_nonzero, …
    finished_at,
  });
}
