/**
 * Worktree isolation in git terms: a branch and a worktree per agent (made from a base commit,
 * placed under the daemon's state dir), its removal, and the commit of everything uncommitted in
 * it. The agent's diff is in `diff.ts`, the merge into its base branch in `merge.ts`.
 * @module
 */
import type { GitRunner } from "./git.ts";
import { decoder, IsolationError, maybe, must, out } from "./_util.ts";
import { treeOfWorkTree } from "./diff.ts";

export { IsolationError } from "./_util.ts";

/** How long an answer of {@linkcode workTreeOf} is reused for the same directory. */
const WORK_TREE_MEMO_MS = 2_000;
const workTreeMemo = new WeakMap<
  GitRunner,
  Map<string, { at: number; answer: Promise<WorkTree | null> }>
>();

interface WorkTree {
  toplevel: string;
  subdir: string;
}

/**
 * The main work tree containing `cwd`, or null when `cwd` is not inside a (non-bare) work tree.
 * Every create asks this and a spawn of git costs the event loop 10–20 ms, so one `rev-parse`
 * answers all three questions, and creates in the same directory within 2 s share its answer.
 */
export function workTreeOf(git: GitRunner, cwd: string): Promise<WorkTree | null> {
  let memo = workTreeMemo.get(git);
  if (!memo) workTreeMemo.set(git, memo = new Map());
  const now = Date.now();
  const hit = memo.get(cwd);
  if (hit && now - hit.at < WORK_TREE_MEMO_MS) return hit.answer;
  for (const [dir, entry] of memo) if (now - entry.at >= WORK_TREE_MEMO_MS) memo.delete(dir);
  const answer = askWorkTree(git, cwd);
  memo.set(cwd, { at: now, answer });
  answer.catch(() => memo.delete(cwd));
  return answer;
}

async function askWorkTree(git: GitRunner, cwd: string): Promise<WorkTree | null> {
  const answer = await maybe(git, cwd, [
    "rev-parse",
    "--is-inside-work-tree",
    "--show-toplevel",
    "--show-prefix",
  ]);
  // Outside a work tree git prints "false" and fails on --show-toplevel (maybe: null).
  const [inside, toplevel, prefix = ""] = answer?.split("\n") ?? [];
  if (inside !== "true" || !toplevel) return null;
  return { toplevel, subdir: prefix.replace(/\/$/, "") };
}

/** A branch-name-safe slug of an agent's name: lowercase ASCII words joined by `-`, ≤ 40 chars. */
export function slugOf(name: string): string {
  const slug = name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
  return slug || "agent";
}

/** The commit an agent starts from, and the branch it merges into (null: a detached base). */
export async function resolveBase(
  git: GitRunner,
  toplevel: string,
  baseRef?: string,
): Promise<{ ref: string | null; sha: string }> {
  if (baseRef === undefined) {
    const sha = await maybe(git, toplevel, ["rev-parse", "--verify", "-q", "HEAD^{commit}"]);
    if (!sha) {
      throw new IsolationError(
        "invalid_state",
        `Cannot isolate the agent: the repository ${toplevel} has no commit yet`,
      );
    }
    const ref = await maybe(git, toplevel, ["symbolic-ref", "-q", "HEAD"]);
    return { ref: ref || null, sha };
  }
  if (baseRef.startsWith("-") || baseRef.includes("\0")) {
    throw new IsolationError("invalid_state", `Cannot use base_ref "${baseRef}": not a ref`);
  }
  const full = baseRef.startsWith("refs/") ? baseRef : `refs/heads/${baseRef}`;
  const branchSha = await maybe(git, toplevel, ["rev-parse", "--verify", "-q", `${full}^{commit}`]);
  if (branchSha && full.startsWith("refs/heads/")) return { ref: full, sha: branchSha };
  const sha = await maybe(git, toplevel, ["rev-parse", "--verify", "-q", `${baseRef}^{commit}`]);
  if (!sha) {
    throw new IsolationError(
      "invalid_state",
      `Cannot use base_ref "${baseRef}": no such commit in ${toplevel}`,
    );
  }
  return { ref: null, sha };
}

/**
 * Fetches the remote of branch `ref`'s upstream and returns the upstream's tip: an agent asked to
 * start from the newest work starts there. Fetch only: nothing is ever pushed. Prompts are off and
 * a stalled transfer gives up, so a start never hangs on the network.
 */
export async function fetchUpstream(
  git: GitRunner,
  toplevel: string,
  ref: string,
): Promise<string> {
  const short = ref.replace(/^refs\/heads\//, "");
  const remote = await maybe(git, toplevel, ["config", "--get", `branch.${short}.remote`]);
  const upstream = await maybe(git, toplevel, [
    "rev-parse",
    "--symbolic-full-name",
    `${short}@{upstream}`,
  ]);
  if (!remote || !upstream || remote.startsWith("-")) {
    throw new IsolationError(
      "invalid_state",
      `Cannot fetch before the start: branch ${short} has no upstream`,
    );
  }
  const r = await git(toplevel, ["fetch", "--quiet", "--no-tags", remote], {
    env: {
      GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o ConnectTimeout=20",
      GIT_HTTP_LOW_SPEED_LIMIT: "1000",
      GIT_HTTP_LOW_SPEED_TIME: "30",
    },
  });
  if (r.code !== 0) {
    throw new IsolationError(
      "invalid_state",
      `Cannot fetch ${remote} before the start: ${r.stderr}`,
    );
  }
  return await must(git, toplevel, ["rev-parse", "--verify", `${upstream}^{commit}`], "fetch");
}

/** Refuses a branch name git would not take, or one that exists already. */
export async function checkNewBranch(
  git: GitRunner,
  toplevel: string,
  name: string,
): Promise<void> {
  const valid = !name.startsWith("-") &&
    (await git(toplevel, ["check-ref-format", "--branch", name])).code === 0;
  if (!valid) {
    throw new IsolationError(
      "invalid_state",
      `Cannot use branch "${name}": not a valid branch name`,
    );
  }
  if (await maybe(git, toplevel, ["rev-parse", "--verify", "-q", `refs/heads/${name}`])) {
    throw new IsolationError("invalid_state", `Cannot use branch "${name}": it exists already`);
  }
}

/** `git worktree add -b <branch> <path> <sha>` in the repository of `toplevel`. */
export async function addWorktree(
  git: GitRunner,
  toplevel: string,
  options: { branch: string; path: string; sha: string },
): Promise<void> {
  const r = await git(toplevel, [
    "worktree",
    "add",
    "--quiet",
    "--no-track",
    "-b",
    options.branch,
    options.path,
    options.sha,
  ]);
  if (r.code !== 0) {
    throw new Error(`Cannot create the agent's worktree at ${options.path}: ${r.stderr}`);
  }
}

/** Commits of `branch` not in `base` (its sha, or the base branch when it still exists). */
export async function unmergedCommits(
  git: GitRunner,
  toplevel: string,
  branch: string,
  base: string,
): Promise<number> {
  const tip = await maybe(git, toplevel, ["rev-parse", "--verify", "-q", `refs/heads/${branch}`]);
  if (!tip) return 0;
  const n = await maybe(git, toplevel, ["rev-list", "--count", `${base}..${tip}`]);
  return Number(n ?? 0);
}

/** Uncommitted paths (untracked included) in a work tree; [] when it is gone. */
export async function dirtyPaths(git: GitRunner, top: string): Promise<string[]> {
  try {
    Deno.statSync(top);
  } catch {
    return [];
  }
  const r = await git(top, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  // A refusal that depends on this list must not pass because git could not answer.
  if (r.code !== 0) throw new Error(`Cannot read the status of ${top}: ${r.stderr}`);
  const paths: string[] = [];
  const records = decoder.decode(r.stdout).split("\0");
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (rec.length < 4) continue;
    paths.push(rec.slice(3));
    if (rec[0] === "R" || rec[0] === "C") i++;
  }
  return paths;
}

/** Refuses (`unmerged_work`) a branch with commits not in `base`, or a dirty worktree. */
export async function assertNoUnmergedWork(
  git: GitRunner,
  options: { repoRoot: string; path: string; branch: string; base: string },
): Promise<void> {
  const { repoRoot, path, branch } = options;
  const commits = await unmergedCommits(git, repoRoot, branch, options.base);
  const dirty = await dirtyPaths(git, path);
  if (commits > 0 || dirty.length > 0) {
    throw new IsolationError(
      "unmerged_work",
      `Cannot remove the worktree of branch ${branch}: it has ${commits} unmerged commit(s) and ${dirty.length} uncommitted file(s); pass force to throw them away`,
      dirty,
    );
  }
}

/**
 * Removes an agent's worktree and branch. Refuses (`unmerged_work`) when the branch has commits
 * that are not in `base`, or the worktree has uncommitted changes, unless `force`.
 */
export async function removeWorktree(
  git: GitRunner,
  options: {
    repoRoot: string;
    path: string;
    branch: string;
    /** What counts as merged: the base branch (or the base sha). */
    base: string;
    force: boolean;
  },
): Promise<void> {
  const { repoRoot, path, branch } = options;
  if (!options.force) await assertNoUnmergedWork(git, options);
  let exists = true;
  try {
    Deno.statSync(path);
  } catch {
    exists = false;
  }
  if (exists) {
    const r = await git(repoRoot, ["worktree", "remove", "--force", "--force", path]);
    if (r.code !== 0) await Deno.remove(path, { recursive: true }).catch(() => {});
  }
  await git(repoRoot, ["worktree", "prune"]);
  await git(repoRoot, ["update-ref", "-d", `refs/heads/${branch}`]);
}

/**
 * Removes a directory under the worktree root that no agent owns: the directory, then the
 * repository's record of it (`worktree prune`). Its branch is kept when it has commits that are
 * merged nowhere (`branch -d` semantics): pruning never loses work.
 */
export async function pruneOrphanWorktree(git: GitRunner, path: string): Promise<void> {
  let common: string | null = null;
  let branch: string | null = null;
  try {
    const link = Deno.readTextFileSync(`${path}/.git`).trim();
    if (link.startsWith("gitdir: ")) {
      const gitdir = link.slice(8);
      common = await maybe(git, path, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
      branch = await maybe(git, path, ["symbolic-ref", "-q", "--short", "HEAD"]);
      common ??= gitdir.replace(/\/worktrees\/[^/]+$/, "");
    }
  } catch {
    // not a worktree (or already half gone): just remove the directory
  }
  await Deno.remove(path, { recursive: true });
  if (!common) return;
  await git(common, ["worktree", "prune"]);
  if (branch?.startsWith("hero/")) await git(common, ["branch", "-d", "-q", branch]);
}

/**
 * Commits everything uncommitted in an agent's worktree (untracked included) on its branch with
 * `message`; returns the new sha, or null when nothing was uncommitted.
 */
export async function commitWorktree(
  git: GitRunner,
  top: string,
  message: string,
  tmpRoot?: string,
): Promise<string | null> {
  const head = await must(git, top, ["rev-parse", "--verify", "HEAD"], "commit the worktree");
  if (await maybe(git, top, ["rev-parse", "-q", "--verify", "MERGE_HEAD"])) {
    throw new IsolationError(
      "merge_refused",
      `Cannot commit the worktree ${top}: a merge is in progress there (conflicts not resolved and committed)`,
    );
  }
  const tree = await treeOfWorkTree(git, top, { head, ...(tmpRoot ? { tmpRoot } : {}) });
  const headTree = await must(git, top, ["rev-parse", `${head}^{tree}`], "commit the worktree");
  if (tree === headTree) return null;
  const commit = await git(top, ["commit-tree", tree, "-p", head, "-F", "-"], {
    stdin: message.endsWith("\n") ? message : `${message}\n`,
  });
  if (commit.code !== 0) throw new Error(`Cannot commit the worktree: ${commit.stderr}`);
  const sha = out(commit);
  const update = await git(top, [
    "update-ref",
    "-m",
    "hero_orchestrator: commit",
    "HEAD",
    sha,
    head,
  ]);
  if (update.code !== 0) {
    throw new Error(`Cannot commit the worktree: HEAD moved: ${update.stderr}`);
  }
  // The real index catches up (the work tree already equals the new HEAD).
  await git(top, ["reset", "-q"]);
  return sha;
}
