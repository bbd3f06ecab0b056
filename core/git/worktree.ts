/**
 * Worktree isolation in git terms: a branch and a worktree per agent (made from a base commit,
 * placed under the daemon's state dir), the agent's changes against that base as a file list and
 * bounded unified diffs, the commit of everything uncommitted in its worktree, and the merge of
 * its branch into the base branch.
 *
 * The merge never touches the user's working tree until the base ref itself moved: the merged
 * commit is built with plumbing (`merge-tree --write-tree`, `commit-tree`) or, for `rebase`, in a
 * temporary worktree, and the base ref is moved with a compare-and-swap (`update-ref <ref> <new>
 * <old>`). A work tree that has the base branch checked out is refused up front when it has local
 * changes in files the merge touches; otherwise it is brought along (`read-tree -m -u old new`).
 * @module
 */
import type { GitResult, GitRunner } from "./git.ts";

const decoder = new TextDecoder();

/** A refused isolation operation; `code` is the RPC error code, `files` the paths at fault. */
export class IsolationError extends Error {
  override name = "IsolationError";
  constructor(
    readonly code: "merge_conflict" | "merge_refused" | "unmerged_work" | "invalid_state",
    message: string,
    readonly files: string[] = [],
  ) {
    super(message);
  }
}

function out(r: GitResult): string {
  return decoder.decode(r.stdout).trim();
}

async function must(git: GitRunner, cwd: string, args: string[], what: string): Promise<string> {
  const r = await git(cwd, args);
  if (r.code !== 0) throw new Error(`Cannot ${what}: git ${args[0]} failed: ${r.stderr}`);
  return out(r);
}

async function maybe(git: GitRunner, cwd: string, args: string[]): Promise<string | null> {
  const r = await git(cwd, args);
  return r.code === 0 ? out(r) : null;
}

/** The main work tree containing `cwd`, or null when `cwd` is not inside a (non-bare) work tree. */
export async function workTreeOf(
  git: GitRunner,
  cwd: string,
): Promise<{ toplevel: string; subdir: string } | null> {
  const inside = await maybe(git, cwd, ["rev-parse", "--is-inside-work-tree"]);
  if (inside !== "true") return null;
  const toplevel = await maybe(git, cwd, ["rev-parse", "--show-toplevel"]);
  if (!toplevel) return null;
  const prefix = await maybe(git, cwd, ["rev-parse", "--show-prefix"]) ?? "";
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
  if (r.code !== 0) return [];
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
  if (!options.force) {
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

/** One changed file of an agent, against its base. */
export interface DiffFile {
  path: string;
  /** The path before a rename (or copy); null otherwise. */
  old_path: string | null;
  status: "added" | "modified" | "deleted" | "renamed" | "copied" | "type_changed";
  /** Lines added and deleted; null for a binary file. */
  additions: number | null;
  deletions: number | null;
  binary: boolean;
}

/** A file's unified diff, cut at the size bound. */
export interface FilePatch {
  path: string;
  text: string;
  truncated: boolean;
}

const STATUS: Record<string, DiffFile["status"]> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "type_changed",
};

/**
 * The tree of a work tree as it is now (untracked files included, ignored files not), written
 * through a temporary index so the real one is left alone. With `files`, only those paths change
 * on top of `head` (an agent in the user's own tree: only its files count).
 */
export async function treeOfWorkTree(
  git: GitRunner,
  top: string,
  options: { head: string | null; files?: string[]; tmpRoot?: string },
): Promise<string> {
  if (options.tmpRoot) Deno.mkdirSync(options.tmpRoot, { recursive: true, mode: 0o700 });
  const tmp = await Deno.makeTempDir({
    prefix: "hero_tree_",
    ...(options.tmpRoot ? { dir: options.tmpRoot } : {}),
  });
  try {
    const env = { GIT_INDEX_FILE: `${tmp}/index` };
    let copied = false;
    if (options.files === undefined) {
      // A copy of the real index keeps its stat cache: only changed files are hashed again.
      const real = await maybe(git, top, [
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        "index",
      ]);
      try {
        if (real) Deno.copyFileSync(real, `${tmp}/index`);
        copied = real !== null;
      } catch {
        // no index yet
      }
    }
    if (!copied) {
      const read = await git(
        top,
        options.head ? ["read-tree", options.head] : ["read-tree", "--empty"],
        { env },
      );
      if (read.code !== 0) throw new Error(`Cannot read the tree of ${top}: ${read.stderr}`);
    }
    const add = await git(top, ["add", "-A", "--", ...(options.files ?? ["."])], { env });
    if (add.code !== 0) throw new Error(`Cannot read the work tree ${top}: ${add.stderr}`);
    const tree = await git(top, ["write-tree"], { env });
    if (tree.code !== 0) throw new Error(`Cannot read the work tree ${top}: ${tree.stderr}`);
    return out(tree);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** The changed files between two trees-ish, with status, counts, binary flag and renames. */
export async function diffFiles(
  git: GitRunner,
  cwd: string,
  from: string,
  to: string,
  paths: string[] = [],
): Promise<DiffFile[]> {
  const common = ["diff-tree", "-r", "-z", "-M", "--no-ext-diff", "--no-textconv", from, to];
  const tail = paths.length > 0 ? ["--", ...paths] : [];
  const status = await git(cwd, [
    ...common.slice(0, 4),
    "--name-status",
    ...common.slice(4),
    ...tail,
  ]);
  if (status.code !== 0) throw new Error(`Cannot diff ${from}..${to}: ${status.stderr}`);
  const numstat = await git(cwd, [...common.slice(0, 4), "--numstat", ...common.slice(4), ...tail]);
  const counts = new Map<string, [number | null, number | null]>();
  {
    const parts = decoder.decode(numstat.stdout).split("\0");
    for (let i = 0; i < parts.length; i++) {
      const head = parts[i]!;
      const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(head);
      if (!m) continue;
      let path = m[3]!;
      if (path === "") {
        path = parts[i + 2]!;
        i += 2;
      }
      counts.set(path, [m[1] === "-" ? null : Number(m[1]), m[2] === "-" ? null : Number(m[2])]);
    }
  }
  const files: DiffFile[] = [];
  const parts = decoder.decode(status.stdout).split("\0");
  for (let i = 0; i < parts.length; i++) {
    const code = parts[i]!;
    if (!code) continue;
    const kind = STATUS[code[0]!] ?? "modified";
    let oldPath: string | null = null;
    let path = parts[++i]!;
    if (kind === "renamed" || kind === "copied") {
      oldPath = path;
      path = parts[++i]!;
    }
    const [additions, deletions] = counts.get(path) ?? [null, null];
    files.push({
      path,
      old_path: oldPath,
      status: kind,
      additions,
      deletions,
      binary: additions === null,
    });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One file's unified diff between two tree-ishes, at most `maxBytes` of it. */
export async function filePatch(
  git: GitRunner,
  cwd: string,
  from: string,
  to: string,
  file: DiffFile,
  options: { context?: number; maxBytes?: number } = {},
): Promise<FilePatch> {
  const maxBytes = options.maxBytes ?? 512 * 1024;
  if (file.binary) {
    return { path: file.path, text: `Binary file ${file.path} differs\n`, truncated: false };
  }
  const r = await git(cwd, [
    "diff-tree",
    "-p",
    "-M",
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    `-U${Math.max(0, Math.min(options.context ?? 3, 1000))}`,
    from,
    to,
    "--",
    ...(file.old_path ? [file.old_path] : []),
    file.path,
  ]);
  if (r.code !== 0) throw new Error(`Cannot diff ${file.path}: ${r.stderr}`);
  const truncated = r.stdout.length > maxBytes;
  const bytes = truncated ? r.stdout.subarray(0, maxBytes) : r.stdout;
  let text = decoder.decode(bytes);
  if (truncated) {
    text = `${text.slice(0, text.lastIndexOf("\n") + 1)}… (diff cut at ${maxBytes} bytes)\n`;
  }
  return { path: file.path, text, truncated };
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

/** Work trees (paths) that have `ref` checked out. */
async function checkoutsOf(git: GitRunner, repoRoot: string, ref: string): Promise<string[]> {
  const r = await must(git, repoRoot, ["worktree", "list", "--porcelain", "-z"], "merge");
  const paths: string[] = [];
  let path: string | null = null;
  for (const line of r.split("\0")) {
    if (line.startsWith("worktree ")) path = line.slice(9);
    else if (line === `branch ${ref}` && path) paths.push(path);
  }
  return paths;
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
  const update = await git(repoRoot, [
    "update-ref",
    "-m",
    `hero_orchestrator: merge ${branch} (${kind})`,
    baseRef,
    next,
    old,
  ]);
  if (update.code !== 0) {
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
