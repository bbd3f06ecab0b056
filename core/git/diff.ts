/**
 * An agent's changes against its base in git terms: the tree of a work tree as it is now
 * (untracked files included, through a temporary index), the changed files between two trees with
 * status, counts, binary flag and renames, and one file's bounded unified diff.
 * @module
 */
import type { GitRunner } from "./git.ts";
import { decoder, maybe, out } from "./_util.ts";

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
