/**
 * Shadow agents: the naming shadow and the commit shadow, their git helpers and text checks.
 * @module
 */
export * from "./text.ts";
export * from "./git.ts";
export * from "./manager.ts";
