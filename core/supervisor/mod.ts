/**
 * Agent lifecycle: queueing, spawning, watchdogs, tree kill, crash recovery, the daemon lock.
 * @module
 */
export * from "./supervisor.ts";
export type { AdmissionBlock } from "./quota.ts";
export type { QuotaGovernor } from "./pause.ts";
export { type QuotaClock, SYSTEM_CLOCK } from "./types.ts";
export type { AgentDiff, IsolationMode } from "./isolation.ts";
export type { IsolatedCreateInput, Worktrees } from "./worktrees.ts";
export * from "./daemon_lock.ts";
export * from "./process_control.ts";
export * from "./process_table.ts";
export * from "./cwd.ts";
