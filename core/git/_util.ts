/**
 * What the worktree, diff and merge rooms share: running git and reading its answer, and the
 * error of a refused isolation operation.
 * @module
 */
import type { GitResult, GitRunner } from "./git.ts";

export const decoder = new TextDecoder();

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

export function out(r: GitResult): string {
  return decoder.decode(r.stdout).trim();
}

export async function must(
  git: GitRunner,
  cwd: string,
  args: string[],
  what: string,
): Promise<string> {
  const r = await git(cwd, args);
  if (r.code !== 0) throw new Error(`Cannot ${what}: git ${args[0]} failed: ${r.stderr}`);
  return out(r);
}

export async function maybe(git: GitRunner, cwd: string, args: string[]): Promise<string | null> {
  const r = await git(cwd, args);
  return r.code === 0 ? out(r) : null;
}
