/**
 * The merge of an agent's branch into its base branch. It never touches the user's working tree
 * until the base ref itself moved: the merged commit is built with plumbing (`merge-tree
 * --write-tree`, `commit-tree`) or, for `rebase`, in a temporary worktree, and the base ref is
 * moved with a compare-and-swap (`update-ref <ref> <new> <old>`). A work tree that has the base
 * branch checked out is refused up front when it has local changes in files the merge touches;
 * otherwise it is brought along (`read-tree -m -u old new`); the intent is journalled across that
 * step (`merge_journal.ts`) so that a crash in between is finished at the next start.
 * @module
 */
import type { GitRunner } from "./git.ts";
import { decoder, IsolationError, maybe, must, out } from "./_util.ts";
import { dirtyPaths } from "./worktree.ts";
import { checkoutsOf, dropMergeIntent, writeMergeIntent } from "./merge_journal.ts";

export type MergeStrategy = "merge" | "squash" | "rebase";

/** What a merge did. */
export interface MergeOutcome {
  /** The base branch's new tip. */
  sha: string;
  previous: string;
  /** `fast_forward`, or the strategy used, or `up_to_date` (nothing to bring in). */
  kind: "fast_forward" | MergeStrategy | "up_to_date";
  /** Work trees with the base branch checked out that were brought along. */
  updated_worktrees: string[];
}

/**
 * Brings `branch` into the base branch `baseRef` of the repository at `repoRoot`: fast-forward when
 * possible, otherwise `strategy`. Nothing changes unless it succeeds; the base ref moves by
 * compare-and-swap. @throws {IsolationError} `merge_conflict` (with the files) or `merge_refused`.
 */
export async function mergeBranch(
  git: GitRunner,
  options: {
    repoRoot: string;
    baseRef: string;
    branch: string;
    strategy: MergeStrategy;
    /** The squash commit's message; the merge commit says which branch it merged. */
    message: string;
    /** Where a temporary worktree for `rebase` goes. */
    tmpRoot: string;
    /**
     * Where the merge's intent is kept across the ref update, so that a crash between the ref
     * update and the checkouts following it is finished at the next start
     * (`finishInterruptedMerges`).
     */
    journalDir?: string;
  },
): Promise<MergeOutcome> {
  const { repoRoot, baseRef, branch, strategy } = options;
  const old = await must(git, repoRoot, ["rev-parse", "--verify", baseRef], "merge");
  const tip = await must(git, repoRoot, ["rev-parse", "--verify", `refs/heads/${branch}`], "merge");
  const isAncestor = async (a: string, b: string) =>
    (await git(repoRoot, ["merge-base", "--is-ancestor", a, b])).code === 0;
  if (await isAncestor(tip, old)) {
    return { sha: old, previous: old, kind: "up_to_date", updated_worktrees: [] };
  }
  let next: string;
  let kind: MergeOutcome["kind"];
  if (await isAncestor(old, tip) && strategy !== "squash") {
    next = tip;
    kind = "fast_forward";
  } else if (strategy === "rebase") {
    next = await rebaseOnto(git, repoRoot, old, tip, options.tmpRoot);
    kind = "rebase";
  } else {
    const r = await git(repoRoot, [
      "merge-tree",
      "--write-tree",
      "--name-only",
      "--no-messages",
      old,
      tip,
    ]);
    const lines = decoder.decode(r.stdout).split("\n");
    if (r.code === 1) {
      const files = lines.slice(1).filter(Boolean);
      throw new IsolationError(
        "merge_conflict",
        `Cannot merge ${branch} into ${baseRef}: conflicts in ${files.join(", ")}`,
        files,
      );
    }
    if (r.code !== 0) throw new Error(`Cannot merge ${branch}: git merge-tree failed: ${r.stderr}`);
    const tree = lines[0]!;
    const parents = strategy === "merge" ? ["-p", old, "-p", tip] : ["-p", old];
    const message = strategy === "merge"
      ? `Merge branch '${branch}'\n\n${options.message}`
      : options.message;
    const commit = await git(repoRoot, ["commit-tree", tree, ...parents, "-F", "-"], {
      stdin: message.endsWith("\n") ? message : `${message}\n`,
    });
    if (commit.code !== 0) throw new Error(`Cannot merge ${branch}: ${commit.stderr}`);
    next = out(commit);
    kind = strategy;
  }
  // The user's checkouts of the base branch: refuse if the merge would touch their local changes.
  const checkouts = await checkoutsOf(git, repoRoot, baseRef);
  const touched = new Set(
    (await must(git, repoRoot, ["diff-tree", "-r", "-z", "--name-only", old, next], "merge"))
      .split("\0").filter(Boolean),
  );
  for (const top of checkouts) {
    const clash = (await dirtyPaths(git, top)).filter((p) => touched.has(p));
    if (clash.length > 0) {
      throw new IsolationError(
        "merge_refused",
        `Cannot merge ${branch}: ${top} has ${
          baseRef.replace("refs/heads/", "")
        } checked out with local changes to files the merge changes: ${
          clash.join(", ")
        }; commit or stash them first`,
        clash,
      );
    }
  }
  const intent = checkouts.length > 0 && options.journalDir
    ? await writeMergeIntent(options.journalDir, {
      repo_root: repoRoot,
      base_ref: baseRef,
      old,
      next,
      checkouts,
    })
    : null;
  const update = await git(repoRoot, [
    "update-ref",
    "-m",
    `hero_orchestrator: merge ${branch} (${kind})`,
    baseRef,
    next,
    old,
  ]);
  if (update.code !== 0) {
    if (intent) await dropMergeIntent(intent);
    throw new IsolationError(
      "merge_refused",
      `Cannot merge ${branch}: ${baseRef} moved while merging (${update.stderr}); nothing changed`,
    );
  }
  // Checkouts of the base branch follow their branch; untouched local changes stay as they were.
  const updated: string[] = [];
  for (const top of checkouts) {
    const r = await git(top, ["read-tree", "-m", "-u", old, next]);
    if (r.code === 0) updated.push(top);
  }
  if (intent) await dropMergeIntent(intent);
  return { sha: next, previous: old, kind, updated_worktrees: updated };
}

/** Replays `base..tip` onto `onto` in a temporary worktree; returns the new tip. */
async function rebaseOnto(
  git: GitRunner,
  repoRoot: string,
  onto: string,
  tip: string,
  tmpRoot: string,
): Promise<string> {
  Deno.mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  const dir = await Deno.makeTempDir({ prefix: "hero_rebase_", dir: tmpRoot });
  await Deno.remove(dir);
  await must(git, repoRoot, ["worktree", "add", "--quiet", "--detach", dir, onto], "rebase");
  try {
    const base = await must(git, repoRoot, ["merge-base", onto, tip], "rebase");
    const r = await git(dir, [
      "cherry-pick",
      "--allow-empty",
      "--keep-redundant-commits",
      `${base}..${tip}`,
    ]);
    if (r.code !== 0) {
      const files = (await maybe(git, dir, ["diff", "--name-only", "--diff-filter=U"]) ?? "")
        .split("\n").filter(Boolean);
      await git(dir, ["cherry-pick", "--abort"]);
      throw new IsolationError(
        "merge_conflict",
        `Cannot rebase onto ${onto.slice(0, 12)}: conflicts in ${files.join(", ") || "(unknown)"}`,
        files,
      );
    }
    return await must(git, dir, ["rev-parse", "HEAD"], "rebase");
  } finally {
    await git(repoRoot, ["worktree", "remove", "--force", "--force", dir]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await git(repoRoot, ["worktree", "prune"]);
  }
}
