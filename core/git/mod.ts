/**
 * git with a clean environment: snapshot of a work tree, the changes since, their diff, and a
 * commit of exactly those files (compare-and-swap on HEAD, temporary index, hooks off); a worktree
 * per agent, its diff against its base, and the merge of its branch.
 * @module
 */
export * from "./git.ts";
export * from "./worktree.ts";
export * from "./diff.ts";
export * from "./merge.ts";
export * from "./merge_journal.ts";
