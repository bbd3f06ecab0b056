/**
 * Worktree isolation of agents: where a new agent runs (its own git worktree and branch under the
 * daemon's state dir, or its cwd), the removal of a worktree on delete and discard, the
 * reconciliation of worktrees at start, and an agent's changes against its base.
 * @module
 */
import { type Agent, InvalidStateError, ValidationError } from "../models/mod.ts";
import type { EngineSettings } from "../config/mod.ts";
import type { AgentIsolation, Store } from "../store/mod.ts";
import {
  addWorktree,
  changesSince,
  checkNewBranch,
  commitWorktree,
  type DiffFile,
  diffFiles,
  fetchUpstream,
  type FilePatch,
  filePatch,
  type GitRunner,
  IsolationError,
  pruneOrphanWorktree,
  removeWorktree,
  resolveBase,
  slugOf,
  treeOfWorkTree,
  workTreeOf,
} from "../git/mod.ts";
import type { SupervisorLog } from "./types.ts";

/** The tree of an empty repository: the base of an agent that started before the first commit. */
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

export type IsolationMode = "worktree" | "none";

/** A worktree made for a new agent, before its row is stored. */
export interface PreparedWorktree {
  /** The id the new agent gets (its branch and worktree are named after it). */
  id: string;
  isolation: Omit<AgentIsolation, "created_at" | "merged_sha" | "merged_at" | "removed_at">;
  /** Where claude runs: the worktree, or the same subdirectory of it as the requested cwd. */
  cwd: string;
}

/**
 * Makes the worktree and branch of a new agent when it is isolated: `mode` (or the configured
 * default) decides; `auto` isolates when `cwd` is inside a non-bare git work tree without
 * submodules. Null: the agent runs in `cwd`. @throws {ValidationError} `invalid_isolation` when a worktree cannot be made.
 */
export async function prepareWorktree(
  git: GitRunner,
  options: {
    id: string;
    name: string;
    cwd: string;
    mode: IsolationMode | undefined;
    baseRef: string | undefined;
    /** The branch's name (default `hero/<slug of name>-<short id>`). */
    branch?: string | undefined;
    /** Fetch the base branch's upstream first and start from its tip. */
    fetch?: boolean | undefined;
    setting: EngineSettings["isolation"];
    worktreeDir: string | null;
  },
): Promise<PreparedWorktree | null> {
  const mode = options.mode ?? (options.setting === "none" ? "none" : "auto");
  const explicit = options.mode === "worktree" || options.setting === "worktree";
  // base_ref, branch and fetch only mean something for a worktree: they ask for one.
  const asked = options.baseRef !== undefined
    ? "base_ref"
    : options.branch !== undefined
    ? "branch"
    : options.fetch
    ? "fetch"
    : null;
  if (mode === "none") {
    if (asked) {
      throw new ValidationError(
        "invalid_isolation",
        `Cannot create agent: ${asked} needs isolation worktree`,
        asked,
      );
    }
    return null;
  }
  const tree = await workTreeOf(git, options.cwd);
  if (!tree || options.worktreeDir === null) {
    if (explicit && options.mode === "worktree" || asked) {
      throw new ValidationError(
        "invalid_isolation",
        tree
          ? "Cannot create agent in a worktree: the daemon has no worktree directory"
          : `Cannot create agent in a worktree: ${options.cwd} is not inside a git work tree (a bare repository or a plain directory); use isolation none`,
        "isolation",
      );
    }
    return null;
  }
  let base;
  try {
    base = await resolveBase(git, tree.toplevel, options.baseRef);
    if (options.branch !== undefined) await checkNewBranch(git, tree.toplevel, options.branch);
    if (options.fetch) {
      if (base.ref === null) {
        throw new Error("Cannot fetch before the start: the base is no branch");
      }
      base = { ref: base.ref, sha: await fetchUpstream(git, tree.toplevel, base.ref) };
    }
  } catch (err) {
    throw new ValidationError(
      "invalid_isolation",
      `Cannot create agent: ${(err as Error).message}`,
      asked ?? "isolation",
    );
  }
  // A worktree checks no submodule out: the agent would see empty directories where code is.
  const submodules = (await git(tree.toplevel, ["cat-file", "-e", `${base.sha}:.gitmodules`]))
    .code === 0;
  if (submodules) {
    if (options.mode === "worktree" || asked) {
      throw new ValidationError(
        "invalid_isolation",
        `Cannot create agent in a worktree: ${tree.toplevel} has submodules, which a worktree does not check out; use isolation none`,
        "isolation",
      );
    }
    return null;
  }
  // The id's tail: its head is a timestamp (UUIDv7), the same for agents made together.
  const branch = options.branch ?? `hero/${slugOf(options.name)}-${shortId(options.id)}`;
  const path = `${options.worktreeDir}/${options.id}`;
  Deno.mkdirSync(options.worktreeDir, { recursive: true, mode: 0o700 });
  await oneAtATime(
    tree.toplevel,
    () => addWorktree(git, tree.toplevel, { branch, path, sha: base.sha }),
  );
  const cwd = tree.subdir ? `${path}/${tree.subdir}` : path;
  // A subdirectory the base commit does not have (untracked or ignored) is made empty.
  Deno.mkdirSync(cwd, { recursive: true });
  return {
    id: options.id,
    isolation: {
      repo_root: tree.toplevel,
      base_ref: base.ref,
      base_sha: base.sha,
      branch,
      worktree_path: path,
    },
    cwd,
  };
}

/** `git worktree add` per repository, one at a time (it writes the repository's shared files). */
const adding = new Map<string, Promise<unknown>>();

function oneAtATime<T>(repo: string, fn: () => Promise<T>): Promise<T> {
  const before = adding.get(repo) ?? Promise.resolve();
  const next = before.then(fn, fn);
  const tail = next.catch(() => {});
  adding.set(repo, tail);
  tail.then(() => {
    if (adding.get(repo) === tail) adding.delete(repo);
  });
  return next;
}

/** Where an isolated agent runs: the same place in its worktree as `cwd` in the repository. */
export function isolatedCwd(
  iso: Pick<AgentIsolation, "repo_root" | "worktree_path">,
  cwd: string,
): string {
  const rel = cwd.startsWith(`${iso.repo_root}/`) ? cwd.slice(iso.repo_root.length) : "";
  return `${iso.worktree_path}${rel}`;
}

/** The random tail of an agent id (8 hex digits), for branch names. */
export function shortId(id: string): string {
  return id.replace(/-/g, "").slice(-8);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes agent `agentId`'s worktree and branch (if it has one still); refuses unmerged work unless
 * `force`. @throws {IsolationError} `unmerged_work`
 */
export async function removeAgentWorktree(
  store: Store,
  git: GitRunner,
  agentId: string,
  force: boolean,
): Promise<boolean> {
  const iso = store.isolation(agentId);
  if (!iso || iso.removed_at !== null) return false;
  await removeWorktree(git, {
    repoRoot: iso.repo_root,
    path: iso.worktree_path,
    branch: iso.branch,
    base: iso.base_ref ?? iso.base_sha,
    force,
  });
  store.recordWorktreeRemoved(agentId);
  return true;
}

/** The live worktree of isolated agent `agent`, refusing one that is gone. */
export function assertWorktreePresent(store: Store, agent: Agent): void {
  const iso = store.isolation(agent.id);
  if (!iso) return;
  if (iso.removed_at !== null) {
    throw new InvalidStateError(
      `Cannot run agent "${agent.id}": its worktree was removed (merged or discarded)`,
    );
  }
  if (!exists(iso.worktree_path)) {
    throw new InvalidStateError(
      `Cannot run agent "${agent.id}": its worktree ${iso.worktree_path} is missing`,
    );
  }
}

/** What start-up reconciliation of worktrees did. */
export interface WorktreeRecovery {
  pruned: string[];
  /** Agents whose worktree was missing (failed, or marked). */
  missing: string[];
}

/**
 * At start: a directory under `worktreeDir` that no agent owns is pruned; a live agent whose
 * worktree is gone is failed (`worktree_missing`) when its state allows, else marked with the error.
 */
export async function reconcileWorktrees(
  store: Store,
  git: GitRunner,
  worktreeDir: string,
  log: SupervisorLog,
): Promise<WorktreeRecovery> {
  const live = store.liveIsolations();
  const owned = new Set(live.map((e) => e.worktree_path));
  const pruned: string[] = [];
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync(worktreeDir)].filter((e) => e.isDirectory).map((e) => e.name);
  } catch {
    // no worktree made yet
  }
  for (const name of names) {
    const path = `${worktreeDir}/${name}`;
    if (owned.has(path)) continue;
    try {
      await pruneOrphanWorktree(git, path);
      pruned.push(path);
    } catch (err) {
      log("warn", "Cannot prune an orphaned worktree", { path, error: String(err) });
    }
  }
  const missing: string[] = [];
  for (const entry of live) {
    if (exists(entry.worktree_path)) continue;
    if (entry.status === "completed" || entry.status === "cancelled") {
      store.recordWorktreeRemoved(entry.agent_id);
      continue;
    }
    missing.push(entry.agent_id);
    const error = {
      error_code: "worktree_missing",
      error_message:
        `The agent's worktree ${entry.worktree_path} is missing (removed outside the daemon)`,
    };
    try {
      if (entry.status === "queued" || entry.status === "running") {
        store.transition(entry.agent_id, "failed", { ...error, finished_at: Date.now() });
      } else store.updateAgent(entry.agent_id, error);
    } catch (err) {
      log("warn", "Cannot mark an agent whose worktree is missing", {
        agent: entry.agent_id,
        error: String(err),
      });
    }
    await git(entry.repo_root, ["worktree", "prune"]);
  }
  return { pruned, missing };
}

/** An agent's changes against its base: the file list and, when asked, unified diffs. */
export interface AgentDiff {
  id: string;
  isolation: IsolationMode;
  /** The repository's main work tree (agents of one repository share it). */
  repo_root: string;
  /** What the changes are measured against. */
  base_sha: string | null;
  branch: string | null;
  files: Array<DiffFile & { patch: FilePatch | null }>;
  additions: number;
  deletions: number;
  /** Files the agent changed that were already dirty at its start (isolation none): not shown. */
  entangled: string[];
}

/**
 * The changes of agent `agentId` against its base sha (committed on its branch, uncommitted and
 * untracked in its worktree), or, in the user's tree, the files it changed since its start
 * snapshot. With `path`, that file's patch; with `patches`, every file's (each bounded).
 */
export async function agentDiff(
  store: Store,
  git: GitRunner,
  agentId: string,
  options: { path?: string; context?: number; patches?: boolean; tmpRoot?: string } = {},
): Promise<AgentDiff> {
  const iso = store.isolation(agentId);
  let top: string;
  let from: string;
  let to: string;
  let only: string[] = [];
  let entangled: string[] = [];
  const tmp = options.tmpRoot ? { tmpRoot: options.tmpRoot } : {};
  if (iso) {
    if (iso.removed_at !== null || !exists(iso.worktree_path)) {
      throw new InvalidStateError(
        `Cannot diff agent "${agentId}": its worktree is ${
          iso.removed_at !== null ? "removed (merged or discarded)" : "missing"
        }`,
      );
    }
    top = iso.worktree_path;
    from = iso.base_sha;
    to = await treeOfWorkTree(git, top, { head: null, ...tmp });
  } else {
    const snapshot = store.worktreeSnapshot(agentId);
    if (!snapshot) {
      throw new InvalidStateError(
        `Cannot diff agent "${agentId}": it did not start in a git work tree (or has not started)`,
      );
    }
    const changes = await changesSince(git, snapshot);
    top = changes.toplevel;
    from = snapshot.head ?? EMPTY_TREE;
    only = changes.files;
    entangled = changes.entangled;
    to = only.length === 0
      ? from
      : await treeOfWorkTree(git, top, { head: snapshot.head, files: only, ...tmp });
    if (only.length === 0) {
      return {
        id: agentId,
        isolation: "none",
        repo_root: top,
        base_sha: snapshot.head,
        branch: null,
        files: [],
        additions: 0,
        deletions: 0,
        entangled,
      };
    }
  }
  const files = await diffFiles(git, top, from, to, only);
  const out: AgentDiff["files"] = [];
  let additions = 0;
  let deletions = 0;
  for (const file of files) {
    additions += file.additions ?? 0;
    deletions += file.deletions ?? 0;
    const wanted = options.patches || options.path === file.path;
    const patch = wanted
      ? await filePatch(git, top, from, to, file, {
        ...(options.context !== undefined ? { context: options.context } : {}),
      })
      : null;
    out.push({ ...file, patch });
  }
  if (options.path !== undefined && !files.some((f) => f.path === options.path)) {
    throw new IsolationError(
      "invalid_state",
      `Cannot diff ${options.path}: agent "${agentId}" did not change it`,
    );
  }
  return {
    id: agentId,
    isolation: iso ? "worktree" : "none",
    repo_root: iso ? iso.repo_root : top,
    base_sha: iso ? iso.base_sha : (from === EMPTY_TREE ? null : from),
    branch: iso?.branch ?? null,
    files: out,
    additions,
    deletions,
    entangled,
  };
}

/**
 * Commits what is uncommitted in the worktree, then merges the base branch into the agent's branch
 * there (`git merge --no-edit`). Returns the files left conflicted ([]: merged cleanly).
 */
export async function mergeBaseIntoWorktree(
  git: GitRunner,
  iso: AgentIsolation,
  tmpRoot?: string,
): Promise<string[]> {
  const top = iso.worktree_path;
  await commitWorktree(
    git,
    top,
    `wip: uncommitted changes of ${iso.branch} before merging ${iso.base_ref}`,
    tmpRoot,
  );
  const r = await git(top, ["merge", "--no-edit", "--no-ff", iso.base_ref!]);
  if (r.code === 0) return [];
  const u = await git(top, ["diff", "--name-only", "-z", "--diff-filter=U"]);
  const files = new TextDecoder().decode(u.stdout).split("\0").filter(Boolean);
  if (files.length === 0) {
    throw new Error(`Cannot merge ${iso.base_ref} into ${iso.branch}: ${r.stderr}`);
  }
  return files;
}
