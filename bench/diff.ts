/**
 * Scenario: an isolated agent's diff. A repository of 2,000 files / 50 MB (quick: 500 / 12 MB),
 * an agent worktree in which every file was changed and left uncommitted, then in this process the
 * steps `agent.diff` runs: the file list (the worktree's tree through its kept index, then one
 * `diff-tree` against the base with statuses, counts and renames) and one file's bounded unified
 * diff. The first list hashes every changed file (reported once, as a note); the figures are the
 * lists after it: nothing changed (the review page refreshing), one file changed between calls
 * (the agent at work), and `agent.diff {path}` (tree, remembered list, patch).
 * Baseline: `git status --porcelain` of the same worktree (the floor of noticing what changed).
 * @module
 */
import { createGitRunner, diffFiles, filePatch, treeOfWorkTree } from "@hero/core/git";
import { summarize } from "./stats.ts";
import { type BenchContext, figure, type Scenario } from "./types.ts";

function size(mode: BenchContext["mode"]): { files: number; bytes: number; reps: number } {
  if (mode === "smoke") return { files: 50, bytes: 2_000, reps: 3 };
  if (mode === "quick") return { files: 500, bytes: 25_000, reps: 10 };
  return { files: 2_000, bytes: 25_000, reps: 30 };
}

async function sh(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`git ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** A file of about `bytes` bytes of source-like lines. */
function body(i: number, bytes: number): string {
  const line = `export const value_${i} = "${"x".repeat(60)}";\n`;
  return line.repeat(Math.max(1, Math.floor(bytes / line.length)));
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export const scenario: Scenario = {
  name: "diff",
  title: "agent.diff of an isolated agent: file list and one file's diff",
  async run(ctx) {
    const { files, bytes, reps } = size(ctx.mode);
    const repo = `${ctx.tmp}/repo`;
    await Deno.mkdir(`${repo}/src`, { recursive: true });
    await sh(repo, "init", "-q", "-b", "main");
    for (let i = 0; i < files; i++) {
      await Deno.writeTextFile(`${repo}/src/f${i}.ts`, body(i, bytes));
    }
    await sh(repo, "add", ".");
    await sh(repo, "-c", "user.name=B", "-c", "user.email=b@example.com", "commit", "-qm", "base");
    const base = await sh(repo, "rev-parse", "HEAD");
    const wt = `${ctx.tmp}/worktree`;
    await sh(repo, "worktree", "add", "-q", "-b", "hero/bench", wt, base);
    // The agent touched every file (a changed line at the top, one added at the end).
    for (let i = 0; i < files; i++) {
      const text = body(i, bytes);
      await Deno.writeTextFile(
        `${wt}/src/f${i}.ts`,
        `// edited\n${text.slice(text.indexOf("\n") + 1)}export const added_${i} = ${i};\n`,
      );
    }
    ctx.log(`diff: ${files} files, ${Math.round(files * bytes / 1e6)} MB, ${reps} reps`);
    const git = createGitRunner(Deno.env.toObject());
    const tmpRoot = `${ctx.tmp}/scratch`;
    const list = async () => {
      const tree = await treeOfWorkTree(git, wt, { head: null, tmpRoot });
      return await diffFiles(git, wt, base, tree);
    };
    const t0 = performance.now();
    const listed = await list();
    const firstMs = performance.now() - t0;
    if (listed.length !== files) throw new Error(`diff: listed ${listed.length} of ${files}`);
    const listMs = await timed(reps, list);
    let round = 0;
    const touchedMs = await timed(reps, async () => {
      const i = round++ % files;
      await Deno.writeTextFile(`${wt}/src/f${i}.ts`, `// round ${round}\n${body(i, bytes)}`);
      return await list();
    });
    const tree = await treeOfWorkTree(git, wt, { head: null, tmpRoot });
    const one = listed[Math.floor(files / 2)]!;
    const patchMs = await timed(reps, () => filePatch(git, wt, base, tree, one));
    const fileMs = await timed(reps, async () => {
      const t = await treeOfWorkTree(git, wt, { head: null, tmpRoot });
      const all = await diffFiles(git, wt, base, t);
      return await filePatch(git, wt, base, t, all.find((f) => f.path === one.path)!);
    });
    const statusMs = await timed(reps, () => sh(wt, "status", "--porcelain"));
    const l = summarize(listMs);
    const c = summarize(touchedMs);
    const p = summarize(patchMs);
    const f = summarize(fileMs);
    const s = summarize(statusMs);
    const baseline = { label: "git status --porcelain p99", value: s.p99 };
    return {
      figures: [
        figure({
          id: "diff.list.p99",
          label: `${files} files: file list p99`,
          unit: "ms",
          value: l.p99,
          baseline,
          target: "≤ 200 ms",
          check: (v) => v <= 200,
          detail: { list: l, status: s, first_ms: firstMs },
        }),
        figure({
          id: "diff.list_touched.p99",
          label: "file list p99, one file changed since the last list",
          unit: "ms",
          value: c.p99,
          baseline,
          target: "≤ 200 ms",
          check: (v) => v <= 200,
          detail: { list: c },
        }),
        figure({
          id: "diff.file.p99",
          label: "one file's diff p99 (the patch, tree known)",
          unit: "ms",
          value: p.p99,
          baseline,
          target: "≤ 50 ms",
          check: (v) => v <= 50,
          detail: { patch: p },
        }),
        figure({
          id: "diff.file_rpc.p99",
          label: "agent.diff {path} p99 (tree, list and patch)",
          unit: "ms",
          value: f.p99,
          baseline,
          detail: { file: f },
        }),
      ],
      notes: [
        `the first list (every file changed and not yet hashed) took ${Math.round(firstMs)} ms`,
        `agent.diff {path} reads the worktree's tree again (the list itself is remembered per tree): its p99 is ${
          Math.round(f.p99)
        } ms, the patch alone ${Math.round(p.p99)} ms`,
      ],
    };
  },
};
