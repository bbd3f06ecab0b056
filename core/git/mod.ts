/**
 * git with a clean environment: snapshot of a work tree, the changes since, their diff, and a
 * commit of exactly those files (compare-and-swap on HEAD, temporary index, hooks off).
 * @module
 */
export * from "./git.ts";
export * from "./worktree.ts";
