/**
 * An agent's changes against its base in git terms: the tree of a work tree as it is now
 * (untracked files included, through an index of its own), the changed files between two trees with
 * status, counts, binary flag and renames, and one file's bounded unified diff.
 * @module
 */
import type { GitRunner } from "./git.ts";
import { decoder, maybe, out } from "./_util.ts";
import { treeThroughKeptIndex } from "./work_index.ts";

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
 * through an index of its own so the real one is left alone. Without `files`, that index is kept
 * between calls (`work_index.ts`): only files touched since the last call are hashed again. With
 * `files`, only those paths change on top of `head` (an agent in the user's own tree: only its
 * files count), through a temporary index.
 */
export async function treeOfWorkTree(
  git: GitRunner,
  top: string,
  options: { head: string | null; files?: string[]; tmpRoot?: string },
): Promise<string> {
  if (options.files === undefined) {
    const tree = await treeThroughKeptIndex(git, top, options.head);
    if (tree !== null) return tree;
  }
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

/** File lists already computed, per runner: between two object ids a list never changes. */
const lists = new WeakMap<GitRunner, Map<string, KnownList>>();
const LISTS_KEPT = 16;
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Beyond this many paths to look at again, the whole list is computed afresh. */
const UPDATE_MAX_PATHS = 2_000;

interface KnownList {
  cwd: string;
  from: string;
  to: string;
  whole: boolean;
  files: DiffFile[];
}

/**
 * The changed files between two trees-ish, with status, counts, binary flag and renames. Between
 * two object ids the answer is remembered (it cannot change), so a file's patch right after the
 * list does not compute the list again; and a list against the same base after a few files
 * changed is the previous one with only those files (and the rename candidates) looked at again.
 */
export async function diffFiles(
  git: GitRunner,
  cwd: string,
  from: string,
  to: string,
  paths: string[] = [],
): Promise<DiffFile[]> {
  const fixed = OBJECT_ID.test(from) && OBJECT_ID.test(to);
  if (!fixed) return await listChanges(git, cwd, from, to, paths);
  const key = JSON.stringify([cwd, from, to, paths]);
  let memo = lists.get(git);
  const known = memo?.get(key);
  if (known) return known.files.map((f) => ({ ...f }));
  const whole = paths.length === 0;
  let previous: KnownList | undefined;
  if (whole && memo) {
    for (const k of memo.values()) if (k.whole && k.cwd === cwd && k.from === from) previous = k;
  }
  const files = (previous && await updatedList(git, previous, to)) ??
    await listChanges(git, cwd, from, to, paths);
  if (!memo) lists.set(git, memo = new Map());
  memo.delete(key);
  memo.set(key, { cwd, from, to, whole, files: files.map((f) => ({ ...f })) });
  while (memo.size > LISTS_KEPT) memo.delete(memo.keys().next().value!);
  return files;
}

/**
 * The list against `known.from` for tree `to`, from the list for `known.to`: the paths that differ
 * between the two trees, and every path that could pair in a rename (added, deleted or renamed
 * against the base, in either list), are diffed again; every other entry is unchanged on both
 * sides. null when too many paths moved (the caller lists afresh).
 */
async function updatedList(
  git: GitRunner,
  known: KnownList,
  to: string,
): Promise<DiffFile[] | null> {
  const moved = await git(known.cwd, ["diff-tree", "-r", "-z", "--name-only", known.to, to]);
  if (moved.code !== 0) return null;
  const again = new Set(decoder.decode(moved.stdout).split("\0").filter((p) => p !== ""));
  for (const f of known.files) {
    if (f.status !== "modified") {
      again.add(f.path);
      if (f.old_path !== null) again.add(f.old_path);
    }
  }
  if (again.size > UPDATE_MAX_PATHS) return null;
  const fresh = again.size === 0
    ? []
    : await listChanges(git, known.cwd, known.from, to, [...again], true);
  const kept = known.files.filter((f) =>
    !again.has(f.path) && (f.old_path === null || !again.has(f.old_path))
  );
  return [...kept.map((f) => ({ ...f })), ...fresh].sort(byPath);
}

function byPath(a: DiffFile, b: DiffFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** One `diff-tree` for both the statuses (`--raw`) and the counts (`--numstat`). */
async function listChanges(
  git: GitRunner,
  cwd: string,
  from: string,
  to: string,
  paths: string[],
  literal = false,
): Promise<DiffFile[]> {
  const r = await git(cwd, [
    // Paths taken from git's own output are names, never patterns.
    ...(literal ? ["--literal-pathspecs"] : []),
    "diff-tree",
    "-r",
    "-z",
    "-M",
    "--raw",
    "--numstat",
    "--no-ext-diff",
    "--no-textconv",
    from,
    to,
    ...(paths.length > 0 ? ["--", ...paths] : []),
  ]);
  if (r.code !== 0) throw new Error(`Cannot diff ${from}..${to}: ${r.stderr}`);
  const parts = decoder.decode(r.stdout).split("\0");
  const changes: Array<{ code: string; path: string; oldPath: string | null }> = [];
  const counts = new Map<string, [number | null, number | null]>();
  for (let i = 0; i < parts.length; i++) {
    const head = parts[i]!;
    if (!head) continue;
    if (head.startsWith(":")) {
      // ":<mode> <mode> <sha> <sha> <status>", then the path (two for a rename or copy).
      const code = head.slice(head.lastIndexOf(" ") + 1);
      let path = parts[++i]!;
      let oldPath: string | null = null;
      if (code[0] === "R" || code[0] === "C") {
        oldPath = path;
        path = parts[++i]!;
      }
      changes.push({ code, path, oldPath });
      continue;
    }
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(head);
    if (!m) continue;
    let path = m[3]!;
    if (path === "") {
      path = parts[i + 2]!;
      i += 2;
    }
    counts.set(path, [m[1] === "-" ? null : Number(m[1]), m[2] === "-" ? null : Number(m[2])]);
  }
  const files: DiffFile[] = changes.map(({ code, path, oldPath }) => {
    const [additions, deletions] = counts.get(path) ?? [null, null];
    return {
      path,
      old_path: oldPath,
      status: STATUS[code[0]!] ?? "modified",
      additions,
      deletions,
      binary: additions === null,
    };
  });
  return files.sort(byPath);
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
  ], { maxStdout: maxBytes });
  // Cut at the bound: git was stopped there, so its exit code says nothing.
  const truncated = r.truncated === true;
  if (!truncated && r.code !== 0) throw new Error(`Cannot diff ${file.path}: ${r.stderr}`);
  const bytes = r.stdout;
  let text = decoder.decode(bytes);
  if (truncated) {
    text = `${text.slice(0, text.lastIndexOf("\n") + 1)}… (diff cut at ${maxBytes} bytes)\n`;
  }
  return { path: file.path, text, truncated };
}
