/**
 * Shadow agents: the naming shadow and the commit shadow, and their text checks (git: core/git).
 * @module
 */
export * from "./text.ts";
export * from "./manager.ts";
export type { MergeMade } from "./merge.ts";
