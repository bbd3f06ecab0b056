/**
 * `agent.complete {merge}`: an isolated agent's worktree is committed (the commit shadow's
 * message) and its branch brought into its base branch by compare-and-swap; then its worktree
 * and branch go.
 * @module
 */
import { type Agent, InvalidStateError } from "../models/mod.ts";
import type { CommitRecord } from "../store/mod.ts";
import {
  commitWorktree,
  IsolationError,
  mergeBranch,
  type MergeOutcome,
  type MergeStrategy,
  removeWorktree,
} from "../git/mod.ts";
import type { ShadowManagerOptions } from "./manager.ts";

/** What `complete(id, {merge: true})` merged. */
export interface MergeMade {
  /** The base branch's new tip. */
  sha: string;
  previous: string;
  kind: MergeOutcome["kind"];
  base_ref: string;
  branch: string;
  /** The commit made of the worktree's uncommitted changes first, or null. */
  committed: string | null;
  /** Work trees with the base branch checked out that were brought along. */
  updated_worktrees: string[];
}

/**
 * awaiting_review → completed for an isolated agent: commits what is uncommitted in its worktree
 * (the commit shadow's message), brings its branch into the base branch (`mergeBranch`: fast-
 * forward when possible, else `strategy`; the base ref moves by compare-and-swap), then removes
 * the worktree and the branch. On a conflict or a refusal nothing of the base branch changed.
 */
export async function mergeAgent(
  o: ShadowManagerOptions,
  agent: Agent,
  strategy: MergeStrategy,
  messageFor: () => Promise<CommitRecord>,
): Promise<{ agent: Agent; commit: null; merge: MergeMade }> {
  const { store, supervisor, git, log } = o;
  const id = agent.id;
  if (agent.status !== "awaiting_review") {
    throw new InvalidStateError(
      `Cannot merge agent "${id}": it is ${agent.status} (needs awaiting_review)`,
    );
  }
  const iso = store.isolation(id);
  if (!iso || iso.removed_at !== null) {
    throw new IsolationError(
      "invalid_state",
      iso
        ? `Cannot merge agent "${id}": its worktree was already removed`
        : `Cannot merge agent "${id}": it ran in its cwd, not in a worktree of its own (use commit)`,
    );
  }
  if (iso.base_ref === null) {
    throw new IsolationError(
      "merge_refused",
      `Cannot merge agent "${id}": it started from a detached commit, not a branch; merge ${iso.branch} by hand`,
    );
  }
  const proposal = await messageFor();
  const now = store.getAgent(id);
  if (now?.status !== "awaiting_review") {
    throw new InvalidStateError(
      `Cannot merge agent "${id}": it is ${now?.status ?? "gone"} (needs awaiting_review)`,
    );
  }
  const committed = await commitWorktree(
    git,
    iso.worktree_path,
    proposal.message,
    o.tmpDir,
  );
  if (committed) {
    store.recordCommit(id, {
      message: proposal.message,
      source: proposal.source,
      files: proposal.files,
      sha: committed,
    });
  }
  const tmpRoot = o.tmpDir ?? `${iso.worktree_path}/../../tmp`;
  const outcome = await mergeBranch(git, {
    repoRoot: iso.repo_root,
    baseRef: iso.base_ref,
    branch: iso.branch,
    strategy,
    message: proposal.message,
    tmpRoot,
    // Beside tmp and worktrees in the state dir, where the worktree reconciliation at start looks.
    journalDir: `${tmpRoot}/../merges`,
  });
  store.recordMerge(id, outcome.sha);
  const done = supervisor.complete(id);
  // A live session ends with the review; its process must not outlive the worktree.
  await supervisor.settled(id);
  try {
    // Merged: the worktree and the branch have nothing left that the base branch lacks.
    await removeWorktree(git, {
      repoRoot: iso.repo_root,
      path: iso.worktree_path,
      branch: iso.branch,
      base: iso.base_ref,
      force: true,
    });
    store.recordWorktreeRemoved(id);
  } catch (err) {
    log("warn", "Cannot remove a merged agent's worktree", { agent: id, error: String(err) });
  }
  return {
    agent: store.getAgent(id) ?? done,
    commit: null,
    merge: {
      sha: outcome.sha,
      previous: outcome.previous,
      kind: outcome.kind,
      base_ref: iso.base_ref,
      branch: iso.branch,
      committed,
      updated_worktrees: outcome.updated_worktrees,
    },
  };
}
