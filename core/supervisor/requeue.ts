/**
 * The rows behind queueing an agent again (a follow-up, a shadow's retry) or a new shadow: each a
 * checked store write whose result the supervisor enqueues. The row holds the turn (prompt and
 * mode) until it starts: the queue's one source of truth.
 * @module
 */
import { type Agent, InvalidStateError, newId } from "../models/mod.ts";
import type { Store } from "../store/mod.ts";
import type { PermissionMode } from "../claude/mod.ts";
import type { CreateShadowInput } from "./types.ts";
import { assertWorktreePresent } from "./isolation.ts";

/**
 * A shadow works for its agent: once the agent is cancelled or deleted, none starts (again), so a
 * retry waiting out its back-off cannot outlive the cancel that stopped its shadows.
 */
function checkShadowParent(store: Store, parentId: string | null, action: string): void {
  const parent = parentId === null ? null : store.getAgent(parentId);
  if (parent?.status === "cancelled" || (parentId !== null && parent === null)) {
    throw new InvalidStateError(
      `Cannot ${action}: its agent "${parentId}" is ${parent ? "cancelled" : "deleted"}`,
    );
  }
}

/** Stores a shadow of `input.parent`: a tool-less run in the parent's cwd, in its own slots. */
export function insertShadow(store: Store, input: CreateShadowInput): Agent {
  checkShadowParent(store, input.parent.id, "create shadow");
  return store.insertAgent({
    id: newId(),
    name: input.name,
    prompt: input.prompt,
    cwd: input.parent.cwd,
    model: input.model,
    effort: "none",
    kind: "shadow",
    parent_id: input.parent.id,
  });
}

/** A failed shadow without a live process, queued again from scratch (new session, same prompt). */
export function requeueShadow(store: Store, agent: Agent, live: boolean): Agent {
  if (agent.kind !== "shadow" || agent.status !== "failed" || live) {
    throw new InvalidStateError(
      `Cannot retry agent "${agent.id}": only a failed shadow without a live process can be retried`,
    );
  }
  checkShadowParent(store, agent.parent_id, `retry shadow "${agent.id}"`);
  return store.transition(agent.id, "queued", {
    error_code: null,
    error_message: null,
    finished_at: null,
    session_id: null,
  });
}

/** The mode a planner carries its plan out in: its own, never plan. */
export function workingMode(agent: Agent): PermissionMode {
  return agent.permission_mode === "plan" ? "bypassPermissions" : agent.permission_mode;
}

/**
 * An agent queued with a follow-up prompt; a planner leaves plan mode only with `execute`. An
 * isolated agent whose worktree is gone (merged, discarded, removed by hand) is refused.
 */
export function requeueFollowUp(
  store: Store,
  agent: Agent,
  prompt: string,
  execute: boolean,
): Agent {
  assertWorktreePresent(store, agent);
  const permissionMode: PermissionMode = agent.kind !== "planner"
    ? agent.permission_mode
    : execute
    ? workingMode(agent)
    : "plan";
  return store.transition(agent.id, "queued", {
    pending_prompt: prompt,
    pending_permission_mode: permissionMode,
    error_code: null,
    error_message: null,
    finished_at: null,
  });
}
