/**
 * A work tree's own kept index for reading its tree (`treeOfWorkTree`): a private index file in the
 * work tree's git dir that survives between calls, so git's stat cache in it spares hashing every
 * changed file again on each diff; only files touched since the last call are read. It starts as
 * a copy of the real index and starts over whenever the real index changes (a commit, an add), so
 * what counts as tracked is always the real index's answer.
 * @module
 */
import type { GitRunner } from "./git.ts";
import { decoder, out } from "./_util.ts";

/** The kept index's name in the work tree's (per-worktree) git dir. */
const KEPT = "hero_orchestrator_tree_index";

/** A lock on the kept index older than this was left by a git that died. */
const STALE_LOCK_MS = 60_000;

/** Calls on one kept index, one at a time: git would refuse a second writer (index.lock). */
const queues = new Map<string, Promise<unknown>>();

/**
 * The tree of work tree `top` as it is now (untracked files included, ignored ones not, tracked
 * ones as the real index has them), through its kept index; null when that cannot be used (the
 * caller then takes a fresh temporary index).
 */
export async function treeThroughKeptIndex(
  git: GitRunner,
  top: string,
  head: string | null,
): Promise<string | null> {
  const paths = await git(top, [
    "rev-parse",
    "--path-format=absolute",
    "--git-dir",
    "--git-path",
    "index",
  ]);
  if (paths.code !== 0) return null;
  const [gitDir, real] = out(paths).split("\n");
  if (!gitDir || !real) return null;
  const kept = `${gitDir}/${KEPT}`;
  const previous = queues.get(kept) ?? Promise.resolve();
  // Anything unexpected (a git dir that cannot be written, say) gives way to a temporary index.
  const run = previous.catch(() => {}).then(() =>
    readTree(git, top, { kept, real, head }).catch(() => null)
  );
  queues.set(kept, run);
  try {
    return await run;
  } finally {
    if (queues.get(kept) === run) queues.delete(kept);
  }
}

async function readTree(
  git: GitRunner,
  top: string,
  at: { kept: string; real: string; head: string | null },
): Promise<string | null> {
  const env = { GIT_INDEX_FILE: at.kept };
  const stamp = stampOf(at.real, at.head);
  const stampFile = `${at.kept}.stamp`;
  if (readText(stampFile) !== stamp || !existsFile(at.kept)) {
    // The real index changed (or this is the first call): start over from it.
    removeQuietly(at.kept);
    removeQuietly(stampFile);
    if (stamp.startsWith("index ")) {
      try {
        Deno.copyFileSync(at.real, at.kept);
      } catch {
        return null;
      }
    } else {
      const read = await git(
        top,
        at.head ? ["read-tree", at.head] : ["read-tree", "--empty"],
        { env },
      );
      if (read.code !== 0) return null;
    }
    Deno.writeTextFileSync(stampFile, stamp);
  }
  const add = await git(top, ["add", "-A", "--", "."], { env });
  if (add.code !== 0) return abandon(at.kept, stampFile);
  if (!await dropNewlyIgnored(git, top, at, env)) return abandon(at.kept, stampFile);
  const tree = await git(top, ["write-tree"], { env });
  if (tree.code !== 0) return abandon(at.kept, stampFile);
  return out(tree);
}

/**
 * An untracked file the kept index took in on an earlier call and that is ignored now (a
 * `.gitignore` changed since) leaves it: a fresh copy of the real index would not have it. A file
 * the real index tracks stays, ignored or not.
 */
async function dropNewlyIgnored(
  git: GitRunner,
  top: string,
  at: { real: string; head: string | null },
  env: Record<string, string>,
): Promise<boolean> {
  const ignored = await git(top, ["ls-files", "-z", "-c", "-i", "--exclude-standard"], { env });
  if (ignored.code !== 0) return false;
  const paths = decoder.decode(ignored.stdout).split("\0").filter((p) => p !== "");
  if (paths.length === 0) return true;
  const tracked = existsFile(at.real)
    ? await git(top, ["ls-files", "-z", "-c"], { env: { GIT_INDEX_FILE: at.real } })
    : at.head
    ? await git(top, ["ls-tree", "-r", "-z", "--name-only", at.head])
    : { code: 0, stdout: new Uint8Array(), stderr: "" };
  if (tracked.code !== 0) return false;
  const keep = new Set(decoder.decode(tracked.stdout).split("\0"));
  const drop = paths.filter((p) => !keep.has(p));
  if (drop.length === 0) return true;
  const rm = await git(
    top,
    ["rm", "-q", "--cached", "--ignore-unmatch", "--pathspec-from-file=-", "--pathspec-file-nul"],
    { env, stdin: drop.join("\0") },
  );
  return rm.code === 0;
}

/** What the kept index was started from: the real index's identity, or the head without one. */
function stampOf(real: string, head: string | null): string {
  try {
    const s = Deno.statSync(real);
    return `index ${s.ino} ${s.size} ${s.mtime?.getTime()} ${s.ctime?.getTime()}`;
  } catch {
    return `head ${head ?? "none"}`;
  }
}

/** Gives the kept index up; the next call starts over (a lock left by a killed git goes too). */
function abandon(kept: string, stampFile: string): null {
  removeQuietly(stampFile);
  removeQuietly(kept);
  try {
    const lock = Deno.statSync(`${kept}.lock`);
    if (Date.now() - (lock.mtime?.getTime() ?? 0) > STALE_LOCK_MS) removeQuietly(`${kept}.lock`);
  } catch {
    // no lock
  }
  return null;
}

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

function existsFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // already gone
  }
}
