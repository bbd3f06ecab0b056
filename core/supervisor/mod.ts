/**
 * Agent lifecycle: queueing, spawning, watchdogs, tree kill, crash recovery, the daemon lock.
 * @module
 */
export * from "./supervisor.ts";
export type { AgentDiff, IsolationMode } from "./isolation.ts";
export type { IsolatedCreateInput, Worktrees } from "./worktrees.ts";
export * from "./daemon_lock.ts";
export * from "./process_control.ts";
export * from "./process_table.ts";
export * from "./cwd.ts";
