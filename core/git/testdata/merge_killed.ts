/**
 * Test helper: merges a branch into `main` with `mergeBranch` and kills this process with SIGKILL
 * right before (`before`) or right after (`after`) the compare-and-swap of the base ref: a crash
 * between the merge commit and the ref update, for `worktree_test.ts`.
 *
 * Usage: deno run -A merge_killed.ts <repo> <branch> <tmp root> before|after <journal dir>
 */
import { createGitRunner, type GitRunner, mergeBranch } from "../mod.ts";

const [repoRoot, branch, tmpRoot, when, journalDir] = Deno.args;
const real = createGitRunner(Deno.env.toObject());
const git: GitRunner = async (cwd, args, options) => {
  const casOfBase = args[0] === "update-ref" && args.includes("refs/heads/main");
  if (casOfBase && when === "before") Deno.kill(Deno.pid, "SIGKILL");
  const result = await real(cwd, args, options);
  if (casOfBase && when === "after") Deno.kill(Deno.pid, "SIGKILL");
  return result;
};
await mergeBranch(git, {
  repoRoot: repoRoot!,
  baseRef: "refs/heads/main",
  branch: branch!,
  strategy: "merge",
  message: "feat: killed merge",
  tmpRoot: tmpRoot!,
  journalDir: journalDir!,
});
console.log("merged without being killed");
