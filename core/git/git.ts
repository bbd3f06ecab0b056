/**
 * Git for the engine (the commit shadow today, worktrees next): the work tree state at an agent's
 * first start, the files changed since, the diff shown to the shadow, and the commit of exactly
 * those files.
 *
 * git runs with a clean environment (no daemon secrets), hooks off (`core.hooksPath=/dev/null`),
 * no fsmonitor, no external diff or textconv, literal pathspecs, and without touching the index
 * while reading (`GIT_OPTIONAL_LOCKS=0`). A repository an agent could rewrite is then no more
 * powerful against the daemon than the agent itself already was.
 *
 * The commit is built with plumbing on a temporary index (HEAD + the agent's files), so whatever
 * else is staged or modified stays exactly as it was, and HEAD is moved with a compare-and-swap
 * (`update-ref HEAD <new> <old>`) so a concurrent commit is never overwritten.
 * @module
 */
import type { Env } from "../config/mod.ts";
import type { WorktreeSnapshot } from "../store/mod.ts";

/** Most dirty paths a snapshot tracks; beyond that, commits are refused. */
export const MAX_TRACKED_PATHS = 20_000;

export interface GitResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
  /** Stdout went past `maxStdout`: only that much was read, and git was stopped. */
  truncated?: boolean;
}

/** Runs git in `cwd`. Injected in tests; the default spawns `git`. */
export type GitRunner = (
  cwd: string,
  args: string[],
  options?: {
    stdin?: string;
    env?: Record<string, string>;
    /** Read at most this many bytes of stdout, then stop git (a huge diff is never held whole). */
    maxStdout?: number;
  },
) => Promise<GitResult>;

const decoder = new TextDecoder();

/** The environment git gets: nothing of the daemon's but PATH, HOME and an author identity. */
export function gitEnv(daemonEnv: Env): Record<string, string> {
  const env: Record<string, string> = {
    LANG: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_OPTIONAL_LOCKS: "0",
    GIT_LITERAL_PATHSPECS: "1",
  };
  for (
    const name of [
      "PATH",
      "HOME",
      "GIT_AUTHOR_NAME",
      "GIT_AUTHOR_EMAIL",
      "GIT_COMMITTER_NAME",
      "GIT_COMMITTER_EMAIL",
    ]
  ) {
    const value = daemonEnv[name];
    if (value) env[name] = value;
  }
  return env;
}

/** The default runner: `git -c core.hooksPath=/dev/null -c core.fsmonitor=false <args>`. */
export function createGitRunner(daemonEnv: Env, bin = "git"): GitRunner {
  const base = gitEnv(daemonEnv);
  return async (cwd, args, options = {}) => {
    const child = new Deno.Command(bin, {
      args: ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", ...args],
      cwd,
      clearEnv: true,
      env: { ...base, ...options.env },
      stdin: options.stdin !== undefined ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    if (options.maxStdout === undefined) {
      const out = await child.output();
      return { code: out.code, stdout: out.stdout, stderr: decoder.decode(out.stderr).trim() };
    }
    const stderr = new Response(child.stderr).arrayBuffer();
    const { bytes, truncated } = await readAtMost(child.stdout, options.maxStdout);
    if (truncated) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    const status = await child.status;
    return {
      code: status.code,
      stdout: bytes,
      stderr: decoder.decode(await stderr).trim(),
      ...(truncated ? { truncated } : {}),
    };
  };
}

/** The first `max` bytes of `stream`, and whether there was more (the rest is not read). */
async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (size + value.length > max) {
        chunks.push(value.subarray(0, max - size));
        size = max;
        await reader.cancel();
        return { bytes: concat(chunks, size), truncated: true };
      }
      chunks.push(value);
      size += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  return { bytes: concat(chunks, size), truncated: false };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function text(git: GitRunner, cwd: string, args: string[]): Promise<string | null> {
  const r = await git(cwd, args);
  return r.code === 0 ? decoder.decode(r.stdout).trim() : null;
}

/** Dirty entries: `git status --porcelain=v1 -z --no-renames --untracked-files=all`. */
async function dirtyEntries(
  git: GitRunner,
  toplevel: string,
): Promise<{ entries: Map<string, string>; truncated: boolean }> {
  const r = await git(toplevel, [
    "status",
    "--porcelain=v1",
    "-z",
    "--no-renames",
    "--untracked-files=all",
    "--ignore-submodules=none",
  ]);
  if (r.code !== 0) throw new Error(`Cannot read git status in ${toplevel}: ${r.stderr}`);
  const entries = new Map<string, string>();
  const records = decoder.decode(r.stdout).split("\0").filter((s) => s.length > 3);
  const truncated = records.length > MAX_TRACKED_PATHS;
  for (const record of records.slice(0, MAX_TRACKED_PATHS)) {
    entries.set(record.slice(3), record.slice(0, 2));
  }
  return { entries, truncated };
}

/** Content identity of each path in the work tree: blob hash, `l:<target>`, `-` (absent). */
async function contentIds(
  git: GitRunner,
  toplevel: string,
  paths: string[],
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const files: string[] = [];
  for (const path of paths) {
    try {
      const info = Deno.lstatSync(`${toplevel}/${path}`);
      if (info.isSymlink) ids.set(path, `l:${Deno.readLinkSync(`${toplevel}/${path}`)}`);
      else if (info.isDirectory) ids.set(path, "d");
      else files.push(path);
    } catch {
      ids.set(path, "-");
    }
  }
  if (files.length > 0) {
    const r = await git(toplevel, ["hash-object", "--no-filters", "--stdin-paths"], {
      stdin: files.join("\n") + "\n",
    });
    const hashes = r.code === 0 ? decoder.decode(r.stdout).trim().split("\n") : [];
    files.forEach((path, i) => ids.set(path, hashes[i] ?? "?"));
  }
  return ids;
}

/** The git state of a work tree now, or null when `cwd` is not inside one. */
export async function takeSnapshot(
  git: GitRunner,
  cwd: string,
  now = Date.now(),
): Promise<(WorktreeSnapshot & { truncated: boolean }) | null> {
  const toplevel = await text(git, cwd, ["rev-parse", "--show-toplevel"]);
  if (!toplevel) return null;
  const head = await text(git, toplevel, ["rev-parse", "--verify", "-q", "HEAD"]);
  const { entries, truncated } = await dirtyEntries(git, toplevel);
  const ids = await contentIds(git, toplevel, [...entries.keys()]);
  const out: Record<string, string> = {};
  for (const [path, xy] of entries) out[path] = `${xy} ${ids.get(path) ?? "?"}`;
  if (truncated) out["\0truncated"] = "1";
  return { toplevel, head: head || null, entries: out, taken_at: now, truncated };
}

/** What changed in a work tree since a snapshot, and what stands in the way of committing it. */
export interface WorktreeChanges {
  toplevel: string;
  head: string | null;
  /** Paths clean at the start and changed since: the agent's changes. */
  files: string[];
  /** Paths already dirty at the start that changed again (mixed with someone else's changes). */
  entangled: string[];
  /** Paths dirty at the start and unchanged: left alone. */
  untouched: string[];
  /** Unmerged paths, or a merge/rebase/cherry-pick in progress. */
  conflicts: string[];
  headMoved: boolean;
  truncated: boolean;
}

const UNMERGED = new Set(["DD", "AU", "UD", "UA", "DU", "AA", "UU"]);
const IN_PROGRESS = [
  "MERGE_HEAD",
  "CHERRY_PICK_HEAD",
  "REVERT_HEAD",
  "rebase-merge",
  "rebase-apply",
];

/** Compares the work tree now with the agent's start snapshot. */
export async function changesSince(
  git: GitRunner,
  snapshot: WorktreeSnapshot,
): Promise<WorktreeChanges> {
  const now = await takeSnapshot(git, snapshot.toplevel);
  if (!now) throw new Error(`Cannot read ${snapshot.toplevel}: it is no longer a git work tree`);
  const before = snapshot.entries;
  const after = now.entries;
  const files: string[] = [];
  const entangled: string[] = [];
  const untouched: string[] = [];
  const conflicts: string[] = [];
  for (const path of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (path.startsWith("\0")) continue;
    const was = before[path];
    const is = after[path];
    if (is !== undefined && UNMERGED.has(is.slice(0, 2))) conflicts.push(path);
    if (was === is) {
      if (was !== undefined) untouched.push(path);
    } else if (was === undefined) files.push(path);
    else entangled.push(path);
  }
  for (const name of IN_PROGRESS) {
    const p = await text(git, now.toplevel, ["rev-parse", "--git-path", name]);
    if (!p) continue;
    const abs = p.startsWith("/") ? p : `${now.toplevel}/${p}`;
    try {
      Deno.lstatSync(abs);
      conflicts.push(`(${name} in progress)`);
    } catch {
      // not in progress
    }
  }
  return {
    toplevel: now.toplevel,
    head: now.head,
    files: files.sort(),
    entangled: entangled.sort(),
    untouched: untouched.sort(),
    conflicts,
    headMoved: now.head !== snapshot.head,
    truncated: now.truncated || before["\0truncated"] !== undefined,
  };
}

/** Status lines and a bounded diff of the agent's files, for the commit shadow's prompt. */
export async function describeChanges(
  git: GitRunner,
  changes: WorktreeChanges,
  maxBytes = 24_000,
): Promise<{ status: string; diff: string }> {
  const { toplevel, files } = changes;
  const tracked: string[] = [];
  const added: string[] = [];
  if (changes.head) {
    const r = await git(toplevel, ["ls-tree", "-r", "--name-only", "-z", "HEAD", "--", ...files]);
    const inHead = new Set(decoder.decode(r.stdout).split("\0").filter(Boolean));
    for (const f of files) (inHead.has(f) ? tracked : added).push(f);
  } else added.push(...files);
  const status = [
    ...tracked.map((f) => `M/D ${f}`),
    ...added.map((f) => `A ${f}`),
  ].join("\n");
  let diff = "";
  if (tracked.length > 0) {
    const r = await git(toplevel, [
      "diff",
      "--no-ext-diff",
      "--no-textconv",
      "--no-color",
      "HEAD",
      "--",
      ...tracked,
    ]);
    diff += decoder.decode(r.stdout);
  }
  for (const f of added) {
    if (diff.length >= maxBytes) break;
    let body: string;
    try {
      const bytes = Deno.readFileSync(`${toplevel}/${f}`).subarray(0, 4000);
      body = bytes.includes(0)
        ? "(binary file)"
        : decoder.decode(bytes).split("\n").map((l) => `+${l}`).join("\n");
    } catch {
      body = "(unreadable)";
    }
    diff += `\nnew file ${f}\n${body}\n`;
  }
  if (diff.length > maxBytes) diff = `${diff.slice(0, maxBytes)}\n… (diff truncated)`;
  return { status, diff };
}

/** A refused commit: `reason` is a stable code, `message` says what to do. */
export class CommitRefusedError extends Error {
  override name = "CommitRefusedError";
  /** The RPC error code (`commit_refused`); `reason` says which check refused. */
  readonly code = "commit_refused";
  constructor(
    readonly reason:
      | "not_git"
      | "no_changes"
      | "conflicts"
      | "unrelated_changes"
      | "head_moved"
      | "too_many_changes"
      | "git_failed",
    message: string,
  ) {
    super(message);
  }
}

function list(paths: string[]): string {
  const shown = paths.slice(0, 10).join(", ");
  return paths.length > 10 ? `${shown}, … (${paths.length} in all)` : shown;
}

/** Throws CommitRefusedError unless `changes` can be committed as the agent's own. */
export function assertCommittable(changes: WorktreeChanges): void {
  if (changes.truncated) {
    throw new CommitRefusedError(
      "too_many_changes",
      `Cannot commit: more than ${MAX_TRACKED_PATHS} dirty paths in ${changes.toplevel}; commit by hand`,
    );
  }
  if (changes.conflicts.length > 0) {
    throw new CommitRefusedError(
      "conflicts",
      `Cannot commit: the work tree ${changes.toplevel} has conflicts: ${list(changes.conflicts)}`,
    );
  }
  if (changes.headMoved) {
    throw new CommitRefusedError(
      "head_moved",
      `Cannot commit: HEAD of ${changes.toplevel} moved since the agent started; commit by hand`,
    );
  }
  if (changes.entangled.length > 0) {
    throw new CommitRefusedError(
      "unrelated_changes",
      `Cannot commit: these files already had uncommitted changes when the agent started, so its changes cannot be told apart: ${
        list(changes.entangled)
      }`,
    );
  }
  if (changes.files.length === 0) {
    throw new CommitRefusedError(
      "no_changes",
      `Cannot commit: the agent changed no files in ${changes.toplevel}`,
    );
  }
}

/**
 * Commits exactly `changes.files` (their work tree content) on top of `changes.head` with
 * `message`; returns the new commit's sha. Other staged or unstaged changes stay as they were.
 */
export async function commitFiles(
  git: GitRunner,
  changes: WorktreeChanges,
  message: string,
  reflog: string,
  /** Where the temporary index goes (the daemon may write only its state dir). */
  tmpRoot?: string,
): Promise<string> {
  const { toplevel, head, files } = changes;
  if (tmpRoot) Deno.mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  const tmp = await Deno.makeTempDir({
    prefix: "hero_commit_",
    ...(tmpRoot ? { dir: tmpRoot } : {}),
  });
  const fail = (step: string, r: GitResult): never => {
    throw new CommitRefusedError("git_failed", `Cannot commit: git ${step} failed: ${r.stderr}`);
  };
  try {
    const env = { GIT_INDEX_FILE: `${tmp}/index` };
    const read = await git(toplevel, head ? ["read-tree", head] : ["read-tree", "--empty"], {
      env,
    });
    if (read.code !== 0) fail("read-tree", read);
    const add = await git(toplevel, ["add", "-A", "--", ...files], { env });
    if (add.code !== 0) fail("add", add);
    const tree = await git(toplevel, ["write-tree"], { env });
    if (tree.code !== 0) fail("write-tree", tree);
    const treeId = decoder.decode(tree.stdout).trim();
    const commit = await git(
      toplevel,
      ["commit-tree", treeId, ...(head ? ["-p", head] : []), "-F", "-"],
      { stdin: message.endsWith("\n") ? message : `${message}\n` },
    );
    if (commit.code !== 0) fail("commit-tree", commit);
    const sha = decoder.decode(commit.stdout).trim();
    const update = await git(toplevel, ["update-ref", "-m", reflog, "HEAD", sha, head ?? ""]);
    if (update.code !== 0) {
      throw new CommitRefusedError(
        "head_moved",
        `Cannot commit: HEAD of ${toplevel} moved while committing: ${update.stderr}`,
      );
    }
    // The real index catches up for these paths only (they now equal HEAD).
    await git(toplevel, ["reset", "-q", "HEAD", "--", ...files]);
    return sha;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
