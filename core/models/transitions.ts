import type { AgentStatus } from "./agent.ts";

/** The one table of legal status changes. */
const ALLOWED: Readonly<Record<AgentStatus, readonly AgentStatus[]>> = {
  queued: ["running", "paused", "failed", "cancelled"],
  running: ["awaiting_review", "paused", "failed", "cancelled"],
  // A paused agent keeps its session: it continues through the queue, or is cancelled.
  paused: ["queued", "cancelled", "failed"],
  awaiting_review: ["completed", "queued", "running", "cancelled"],
  failed: ["queued", "running"],
  completed: [],
  cancelled: [],
};

export class InvalidTransitionError extends Error {
  override name = "InvalidTransitionError";
  readonly code = "invalid_state";
  constructor(readonly from: AgentStatus, readonly to: AgentStatus, agentId?: string) {
    super(
      `Cannot move agent${
        agentId ? ` "${agentId}"` : ""
      } from ${from} to ${to}: not an allowed transition`,
    );
  }
}

export function canTransition(from: AgentStatus, to: AgentStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function assertTransition(from: AgentStatus, to: AgentStatus, agentId?: string): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to, agentId);
}
