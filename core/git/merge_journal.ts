/**
 * The intent of a merge, kept on disk across the ref update: the base ref moves by compare-and-
 * swap and the user's checkouts of the base branch follow right after. A daemon killed between
 * the two leaves the branch merged but those checkouts on the old commit (the merge looks
 * reverted in `git status`); at the next start `finishInterruptedMerges` brings them along, or,
 * when the user touched those files meanwhile, leaves them and says what to run.
 * @module
 */
import type { Log } from "@hero/service/log";
import type { GitRunner } from "./git.ts";
import { decoder, must } from "./_util.ts";

/** What a merge is about to do, written before its ref update. */
export interface MergeIntent {
  repo_root: string;
  base_ref: string;
  old: string;
  next: string;
  /** Work trees that had the base branch checked out and are to follow it. */
  checkouts: string[];
}

/** A checkout an interrupted merge left behind, and what became of it. */
export interface InterruptedCheckout {
  path: string;
  base_ref: string;
  old: string;
  next: string;
  /** `finished`: brought to `next`; `left`: the user changed its files, see `message`. */
  outcome: "finished" | "already" | "left";
  message: string;
}

/** Work trees (paths) that have `ref` checked out. */
export async function checkoutsOf(
  git: GitRunner,
  repoRoot: string,
  ref: string,
): Promise<string[]> {
  const r = await must(git, repoRoot, ["worktree", "list", "--porcelain", "-z"], "merge");
  const paths: string[] = [];
  let path: string | null = null;
  for (const line of r.split("\0")) {
    if (line.startsWith("worktree ")) path = line.slice(9);
    else if (line === `branch ${ref}` && path) paths.push(path);
  }
  return paths;
}

/** Writes the intent durably (file synced, then renamed into place); returns its path. */
export async function writeMergeIntent(dir: string, intent: MergeIntent): Promise<string> {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = `${dir}/${intent.next}-${crypto.randomUUID().slice(0, 8)}.json`;
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    await file.write(new TextEncoder().encode(JSON.stringify(intent)));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
  return path;
}

export async function dropMergeIntent(path: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
}

async function names(git: GitRunner, cwd: string, args: string[]): Promise<Set<string> | null> {
  const r = await git(cwd, args);
  if (r.code !== 0) return null;
  return new Set(decoder.decode(r.stdout).split("\0").filter(Boolean));
}

/**
 * Brings one checkout from `old` to `next` when it still holds `old` in every file the merge
 * changes (its other local changes stay, as in the merge itself).
 */
async function finishCheckout(
  git: GitRunner,
  top: string,
  intent: MergeIntent,
): Promise<InterruptedCheckout> {
  const { old, next, base_ref } = intent;
  const base = { path: top, base_ref, old, next };
  const touched = await names(git, top, ["diff-tree", "-r", "-z", "--name-only", old, next]);
  const stagedVsOld = await names(git, top, ["diff-index", "--cached", "-z", "--name-only", old]);
  const stagedVsNext = await names(git, top, [
    "diff-index",
    "--cached",
    "-z",
    "--name-only",
    next,
  ]);
  const edited = await names(git, top, ["diff-files", "-z", "--name-only"]);
  if (!touched || !stagedVsOld || !stagedVsNext || !edited) {
    return { ...base, outcome: "left", message: `Cannot read the state of ${top}` };
  }
  const hit = (s: Set<string>) => [...touched].filter((p) => s.has(p));
  const short = (sha: string) => sha.slice(0, 12);
  if (hit(stagedVsNext).length === 0 && hit(edited).length === 0) {
    return { ...base, outcome: "already", message: `${top} already holds the merge` };
  }
  if (hit(stagedVsOld).length === 0 && hit(edited).length === 0) {
    const r = await git(top, ["read-tree", "-m", "-u", old, next]);
    if (r.code === 0) {
      return {
        ...base,
        outcome: "finished",
        message: `${top} brought from ${short(old)} to the merge ${short(next)}`,
      };
    }
    return {
      ...base,
      outcome: "left",
      message: `Cannot bring ${top} to the merge ${short(next)}: ${r.stderr.trim()}; move the ` +
        `files in the way, then run: git -C '${top}' read-tree -m -u ${old} ${next}`,
    };
  }
  const mine = [...new Set([...hit(stagedVsOld), ...hit(edited)])];
  return {
    ...base,
    outcome: "left",
    message: `${top} still holds ${short(old)} while ${base_ref} is at the merge ` +
      `${short(next)}, and it has changes of yours to files the merge changed (${
        mine.join(", ")
      }), so it was left as it is: \`git -C '${top}' diff ${old} -- <file>\` shows your edits, ` +
      `\`git -C '${top}' checkout ${next} -- <file>\` takes the merged file (dropping them)`,
  };
}

/**
 * At start: finishes every merge whose intent is still on disk. A ref that never moved means the
 * merge did not happen (nothing to do); a ref at the merge gets its checkouts brought along.
 */
export async function finishInterruptedMerges(
  git: GitRunner,
  dir: string,
  log?: Log,
): Promise<InterruptedCheckout[]> {
  let files: string[] = [];
  try {
    files = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => `${dir}/${e.name}`).sort();
  } catch {
    return []; // no merge was ever journalled
  }
  const done: InterruptedCheckout[] = [];
  for (const file of files) {
    let intent: MergeIntent;
    try {
      intent = JSON.parse(Deno.readTextFileSync(file));
    } catch (err) {
      log?.("warn", "Cannot read an interrupted merge's journal", { file, error: String(err) });
      await dropMergeIntent(file);
      continue;
    }
    const r = await git(intent.repo_root, ["rev-parse", "--verify", "-q", intent.base_ref]);
    const at = decoder.decode(r.stdout).trim();
    if (r.code === 0 && at === intent.next) {
      const now = new Set(
        await checkoutsOf(git, intent.repo_root, intent.base_ref).catch(() => []),
      );
      for (const top of intent.checkouts.filter((t) => now.has(t))) {
        const c = await finishCheckout(git, top, intent);
        done.push(c);
        log?.(c.outcome === "left" ? "warn" : "info", c.message, { path: top });
      }
    } else if (r.code === 0 && at !== intent.old) {
      log?.("warn", "An interrupted merge's base branch moved on since; its checkouts are left", {
        repo: intent.repo_root,
        ref: intent.base_ref,
        merge: intent.next,
        now: at,
      });
    }
    await dropMergeIntent(file);
  }
  return done;
}
