/** Worktrees, diffs and merges against real repositories. */
import assert from "node:assert/strict";
import {
  addWorktree,
  commitWorktree,
  createGitRunner,
  diffFiles,
  filePatch,
  finishInterruptedMerges,
  type GitRunner,
  IsolationError,
  mergeBranch,
  pruneOrphanWorktree,
  removeWorktree,
  resolveBase,
  slugOf,
  treeOfWorkTree,
  workTreeOf,
} from "./mod.ts";

const git = createGitRunner({
  PATH: Deno.env.get("PATH"),
  HOME: Deno.env.get("HOME"),
  GIT_AUTHOR_NAME: "T",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "T",
  GIT_COMMITTER_EMAIL: "t@example.com",
});

async function sh(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

async function setup(name = "repo") {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "hero_wt_" }));
  const repo = `${root}/${name}`;
  await Deno.mkdir(repo);
  await sh(repo, "init", "-q", "-b", "main");
  await sh(repo, "config", "user.email", "t@example.com");
  await sh(repo, "config", "user.name", "T");
  await Deno.writeTextFile(`${repo}/README.md`, "hello\n");
  await sh(repo, "add", ".");
  await sh(repo, "commit", "-q", "-m", "init");
  const state = `${root}/state/worktrees`;
  return {
    root,
    repo,
    state,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

async function agentTree(repo: string, state: string, id: string) {
  const base = await resolveBase(git, repo);
  const path = `${state}/${id}`;
  const branch = `hero/${slugOf(`agent ${id}`)}-${id}`;
  await addWorktree(git, repo, { branch, path, sha: base.sha });
  return { path, branch, base };
}

Deno.test("worktree: two agents write the same file apart; diff, fast-forward, then merge_conflict changing nothing", async () => {
  await using t = await setup("my repo ü");
  const statusBefore = await sh(t.repo, "status", "--porcelain");
  const a = await agentTree(t.repo, t.state, "aaaa1111");
  const b = await agentTree(t.repo, t.state, "bbbb2222");
  assert.equal(a.base.ref, "refs/heads/main");
  await Deno.writeTextFile(`${a.path}/same.txt`, "from a\n");
  await Deno.writeTextFile(`${b.path}/same.txt`, "from b\n");
  await Deno.writeTextFile(`${b.path}/README.md`, "hello\nb was here\n");
  // The user's tree is untouched.
  assert.equal(await sh(t.repo, "status", "--porcelain"), statusBefore);
  await assert.rejects(Deno.stat(`${t.repo}/same.txt`));

  const treeA = await treeOfWorkTree(git, a.path, { head: null });
  const filesA = await diffFiles(git, a.path, a.base.sha, treeA);
  assert.deepEqual(filesA, [{
    path: "same.txt",
    old_path: null,
    status: "added",
    additions: 1,
    deletions: 0,
    binary: false,
  }]);
  const patch = await filePatch(git, a.path, a.base.sha, treeA, filesA[0]!);
  assert.match(patch.text, /\+from a/);
  const treeB = await treeOfWorkTree(git, b.path, { head: null });
  const filesB = await diffFiles(git, b.path, b.base.sha, treeB);
  assert.deepEqual(filesB.map((f) => [f.path, f.status, f.additions, f.deletions]), [
    ["README.md", "modified", 1, 0],
    ["same.txt", "added", 1, 0],
  ]);

  assert.ok(await commitWorktree(git, a.path, "feat: a"));
  assert.equal(await commitWorktree(git, a.path, "nothing"), null);
  const first = await mergeBranch(git, {
    repoRoot: t.repo,
    baseRef: "refs/heads/main",
    branch: a.branch,
    strategy: "merge",
    message: "a",
    tmpRoot: `${t.root}/tmp`,
  });
  assert.equal(first.kind, "fast_forward");
  assert.equal(await sh(t.repo, "rev-parse", "main"), await sh(a.path, "rev-parse", "HEAD"));
  // The user's checkout of main came along, clean.
  assert.equal(await Deno.readTextFile(`${t.repo}/same.txt`), "from a\n");
  assert.equal(await sh(t.repo, "status", "--porcelain"), "");

  await commitWorktree(git, b.path, "feat: b");
  const mainBefore = await sh(t.repo, "rev-parse", "main");
  for (const strategy of ["squash", "rebase", "merge"] as const) {
    const err = await mergeBranch(git, {
      repoRoot: t.repo,
      baseRef: "refs/heads/main",
      branch: b.branch,
      strategy,
      message: "b",
      tmpRoot: `${t.root}/tmp`,
    }).then(() => null, (e) => e);
    assert.ok(err instanceof IsolationError, `${strategy}: ${err}`);
    assert.equal(err.code, "merge_conflict");
    assert.deepEqual(err.files, ["same.txt"]);
  }
  assert.equal(await sh(t.repo, "rev-parse", "main"), mainBefore);
  assert.equal(await sh(t.repo, "status", "--porcelain"), "");
  assert.equal(await Deno.readTextFile(`${t.repo}/same.txt`), "from a\n");
  await sh(t.repo, "fsck", "--no-progress");
});

Deno.test("worktree: rebase and squash strategies bring a diverged branch in", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "cccc3333");
  await Deno.writeTextFile(`${a.path}/a.txt`, "a\n");
  await commitWorktree(git, a.path, "feat: a");
  await Deno.writeTextFile(`${a.path}/a2.txt`, "a2\n");
  await commitWorktree(git, a.path, "feat: a2");
  await Deno.writeTextFile(`${t.repo}/user.txt`, "user\n");
  await sh(t.repo, "add", "user.txt");
  await sh(t.repo, "commit", "-q", "-m", "user");
  const r = await mergeBranch(git, {
    repoRoot: t.repo,
    baseRef: "refs/heads/main",
    branch: a.branch,
    strategy: "rebase",
    message: "a",
    tmpRoot: `${t.root}/tmp`,
  });
  assert.equal(r.kind, "rebase");
  assert.equal(await sh(t.repo, "log", "--format=%s", "-3", "main"), "feat: a2\nfeat: a\nuser");
  assert.equal(await sh(t.repo, "status", "--porcelain"), "");
  assert.equal(
    await sh(t.repo, "worktree", "list", "--porcelain").then((s) =>
      s.split("worktree ").length - 1
    ),
    2,
  );

  const b = await agentTree(t.repo, t.state, "dddd4444");
  await Deno.writeTextFile(`${b.path}/b.txt`, "b\n");
  await commitWorktree(git, b.path, "feat: b");
  await Deno.writeTextFile(`${b.path}/b2.txt`, "b2\n");
  await commitWorktree(git, b.path, "feat: b2");
  const s = await mergeBranch(git, {
    repoRoot: t.repo,
    baseRef: "refs/heads/main",
    branch: b.branch,
    strategy: "squash",
    message: "feat: b squashed",
    tmpRoot: `${t.root}/tmp`,
  });
  assert.equal(s.kind, "squash");
  assert.equal(await sh(t.repo, "log", "--format=%s", "-1", "main"), "feat: b squashed");
  assert.equal(await sh(t.repo, "rev-parse", "main^"), r.sha);
  assert.equal(await Deno.readTextFile(`${t.repo}/b2.txt`), "b2\n");
});

Deno.test("worktree: a failed compare-and-swap (a crash before the ref update) leaves main unchanged and fsck clean", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "eeee5555");
  await Deno.writeTextFile(`${a.path}/x.txt`, "x\n");
  await commitWorktree(git, a.path, "feat: x");
  await Deno.writeTextFile(`${t.repo}/y.txt`, "y\n");
  await sh(t.repo, "add", "y.txt");
  await sh(t.repo, "commit", "-q", "-m", "y");
  const before = await sh(t.repo, "rev-parse", "main");
  // The process dies after writing the merge commit and before moving the ref.
  const dying: GitRunner = (cwd, args, options) =>
    args[0] === "update-ref" && args.includes("refs/heads/main")
      ? Promise.resolve({ code: 137, stdout: new Uint8Array(), stderr: "killed" })
      : git(cwd, args, options);
  const err = await mergeBranch(dying, {
    repoRoot: t.repo,
    baseRef: "refs/heads/main",
    branch: a.branch,
    strategy: "merge",
    message: "x",
    tmpRoot: `${t.root}/tmp`,
  }).then(() => null, (e) => e);
  assert.ok(err instanceof IsolationError && err.code === "merge_refused");
  assert.equal(await sh(t.repo, "rev-parse", "main"), before);
  assert.equal(await sh(t.repo, "status", "--porcelain"), "");
  await sh(t.repo, "fsck", "--no-progress");
  // Done again without the crash, it merges fully.
  const ok = await mergeBranch(git, {
    repoRoot: t.repo,
    baseRef: "refs/heads/main",
    branch: a.branch,
    strategy: "merge",
    message: "x",
    tmpRoot: `${t.root}/tmp`,
  });
  assert.equal(ok.kind, "merge");
  assert.equal(await sh(t.repo, "rev-parse", "main^1"), before);
  assert.equal(await Deno.readTextFile(`${t.repo}/x.txt`), "x\n");
  await sh(t.repo, "fsck", "--no-progress");
});

Deno.test("worktree: a checkout of main with local changes in a touched file refuses the merge", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "ffff6666");
  await Deno.writeTextFile(`${a.path}/README.md`, "agent\n");
  await commitWorktree(git, a.path, "feat: readme");
  await Deno.writeTextFile(`${t.repo}/README.md`, "user's edit\n");
  const before = await sh(t.repo, "rev-parse", "main");
  const err = await mergeBranch(git, {
    repoRoot: t.repo,
    baseRef: "refs/heads/main",
    branch: a.branch,
    strategy: "merge",
    message: "x",
    tmpRoot: `${t.root}/tmp`,
  }).then(() => null, (e) => e);
  assert.ok(err instanceof IsolationError && err.code === "merge_refused", String(err));
  assert.deepEqual(err.files, ["README.md"]);
  assert.equal(await sh(t.repo, "rev-parse", "main"), before);
  assert.equal(await Deno.readTextFile(`${t.repo}/README.md`), "user's edit\n");
});

Deno.test("worktree: removal refuses unmerged work unless forced; orphans are pruned; bare and plain dirs are no work tree", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "abab7777");
  await Deno.writeTextFile(`${a.path}/w.txt`, "w\n");
  const opts = { repoRoot: t.repo, path: a.path, branch: a.branch, base: "refs/heads/main" };
  const err = await removeWorktree(git, { ...opts, force: false }).then(() => null, (e) => e);
  assert.ok(err instanceof IsolationError && err.code === "unmerged_work");
  await commitWorktree(git, a.path, "feat: w");
  await assert.rejects(removeWorktree(git, { ...opts, force: false }), IsolationError);
  await removeWorktree(git, { ...opts, force: true });
  await assert.rejects(Deno.stat(a.path));
  assert.equal(await sh(t.repo, "branch", "--list", a.branch), "");
  assert.doesNotMatch(await sh(t.repo, "worktree", "list"), /abab7777/);

  const orphan = await agentTree(t.repo, t.state, "cdcd8888");
  await pruneOrphanWorktree(git, orphan.path);
  await assert.rejects(Deno.stat(orphan.path));
  assert.doesNotMatch(await sh(t.repo, "worktree", "list"), /cdcd8888/);
  assert.equal(await sh(t.repo, "branch", "--list", orphan.branch), "");

  assert.deepEqual(await workTreeOf(git, t.repo), { toplevel: t.repo, subdir: "" });
  await Deno.mkdir(`${t.repo}/sub dir`);
  assert.deepEqual(await workTreeOf(git, `${t.repo}/sub dir`), {
    toplevel: t.repo,
    subdir: "sub dir",
  });
  await sh(t.root, "init", "-q", "--bare", "bare.git");
  assert.equal(await workTreeOf(git, `${t.root}/bare.git`), null);
  await Deno.mkdir(`${t.root}/plain`);
  assert.equal(await workTreeOf(git, `${t.root}/plain`), null);
  assert.equal(slugOf("Fix the Login — café!"), "fix-the-login-cafe");
  assert.equal(slugOf("日本"), "agent");
});

Deno.test("worktree: a huge file's diff is cut at the bound and git's output is not read past it", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "eeee9999");
  const line = `${"y".repeat(99)}\n`;
  await Deno.writeTextFile(`${a.path}/big.txt`, line.repeat(30_000)); // 3 MB
  const tree = await treeOfWorkTree(git, a.path, { head: null });
  const [file] = await diffFiles(git, a.path, a.base.sha, tree);
  assert.equal(file?.path, "big.txt");
  assert.equal(file?.additions, 30_000);
  const patch = await filePatch(git, a.path, a.base.sha, tree, file!, { maxBytes: 64 * 1024 });
  assert.equal(patch.truncated, true);
  assert.ok(patch.text.length <= 64 * 1024 + 100, `${patch.text.length} characters`);
  assert.match(patch.text, /^\+{3} b\/big\.txt$/m);
  assert.match(patch.text, /… \(diff cut at 65536 bytes\)\n$/);
  // The runner stops reading (and stops git) at the bound.
  const read = await git(a.path, ["cat-file", "-p", `${tree}:big.txt`], { maxStdout: 1000 });
  assert.equal(read.truncated, true);
  assert.equal(read.stdout.length, 1000);
  const whole = await git(a.path, ["cat-file", "-p", `${tree}:big.txt`], { maxStdout: 4_000_000 });
  assert.equal(whole.truncated, undefined);
  assert.equal(whole.code, 0);
  assert.equal(whole.stdout.length, 3_000_000);
});

Deno.test("worktree: kill -9 between the merge commit and the ref update leaves main unchanged, after it fully merged; fsck clean", async () => {
  for (const when of ["before", "after"] as const) {
    await using t = await setup();
    const a = await agentTree(t.repo, t.state, `ab${when === "before" ? "01" : "02"}cdef`);
    await Deno.writeTextFile(`${a.path}/agent.txt`, "agent\n");
    await commitWorktree(git, a.path, "feat: agent");
    // main moves on meanwhile: the merge needs a merge commit, not a fast-forward.
    await Deno.writeTextFile(`${t.repo}/user.txt`, "user\n");
    await sh(t.repo, "add", ".");
    await sh(t.repo, "commit", "-q", "-m", "user work");
    const before = await sh(t.repo, "rev-parse", "main");
    const tip = await sh(t.repo, "rev-parse", a.branch);
    const helper = new URL("./testdata/merge_killed.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", helper, t.repo, a.branch, `${t.root}/tmp`, when, `${t.root}/merges`],
      env: { GIT_AUTHOR_NAME: "T", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "T" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.signal, "SIGKILL", new TextDecoder().decode(out.stderr));
    const after = await sh(t.repo, "rev-parse", "main");
    if (when === "before") assert.equal(after, before, "main unchanged");
    else {
      // Fully merged: a merge commit whose parents are the old main and the agent's tip.
      assert.equal(await sh(t.repo, "rev-parse", `${after}^1`), before);
      assert.equal(await sh(t.repo, "rev-parse", `${after}^2`), tip);
      // Killed before the user's checkout of main followed: it still holds the old commit, so
      // the merge looks reverted, until the restart finishes it.
      assert.notEqual(await sh(t.repo, "status", "--porcelain"), "");
      const logged: string[] = [];
      const finished = await finishInterruptedMerges(git, `${t.root}/merges`, (_l, m) => {
        logged.push(m);
      });
      assert.deepEqual(finished.map((c) => [c.path, c.outcome]), [[t.repo, "finished"]]);
      assert.equal(await sh(t.repo, "status", "--porcelain", "--untracked-files=all"), "");
      assert.equal(await sh(t.repo, "rev-parse", "HEAD"), after);
      assert.equal(await Deno.readTextFile(`${t.repo}/agent.txt`), "agent\n");
      assert.equal(await Deno.readTextFile(`${t.repo}/user.txt`), "user\n");
      assert.equal(logged.length, 1);
      // The journal is gone: a second start has nothing to finish.
      assert.deepEqual(await finishInterruptedMerges(git, `${t.root}/merges`), []);
    }
    if (when === "before") {
      // The merge never happened: the restart leaves the checkout alone and drops the journal.
      assert.deepEqual(await finishInterruptedMerges(git, `${t.root}/merges`), []);
      assert.equal(await sh(t.repo, "status", "--porcelain", "--untracked-files=all"), "");
      assert.deepEqual([...Deno.readDirSync(`${t.root}/merges`)], []);
    }
    assert.equal(await sh(t.repo, "fsck", "--no-progress", "--no-dangling"), "");
    if (when === "before") {
      // A merge after the restart goes through.
      const done = await mergeBranch(git, {
        repoRoot: t.repo,
        baseRef: "refs/heads/main",
        branch: a.branch,
        strategy: "merge",
        message: "feat: agent",
        tmpRoot: `${t.root}/tmp`,
      });
      assert.equal(done.kind, "merge");
      assert.equal(await sh(t.repo, "show", "main:agent.txt"), "agent");
    }
  }
});

Deno.test("worktree: each diff sees the work tree as it is now (no stale list or tree between calls)", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "cccc3333");
  const list = async () => {
    const tree = await treeOfWorkTree(git, a.path, { head: null });
    const files = await diffFiles(git, a.path, a.base.sha, tree);
    return { tree, files: files.map((f) => [f.path, f.status, f.additions, f.deletions]) };
  };
  await Deno.writeTextFile(`${a.path}/notes.txt`, "one\n");
  assert.deepEqual((await list()).files, [["notes.txt", "added", 1, 0]]);

  // Edited right after a diff, same size, within the same second: the next diff shows the edit.
  await Deno.writeTextFile(`${a.path}/notes.txt`, "two\n");
  const edited = await list();
  assert.deepEqual(edited.files, [["notes.txt", "added", 1, 0]]);
  const [file] = await diffFiles(git, a.path, a.base.sha, edited.tree);
  const patch = await filePatch(git, a.path, a.base.sha, edited.tree, file!);
  assert.match(patch.text, /^\+two$/m);
  assert.doesNotMatch(patch.text, /one/);

  // More lines, a tracked file changed, then both gone again.
  await Deno.writeTextFile(`${a.path}/notes.txt`, "two\nthree\n");
  await Deno.writeTextFile(`${a.path}/README.md`, "hello\nagain\n");
  assert.deepEqual((await list()).files, [
    ["README.md", "modified", 1, 0],
    ["notes.txt", "added", 2, 0],
  ]);
  await Deno.remove(`${a.path}/notes.txt`);
  await Deno.writeTextFile(`${a.path}/README.md`, "hello\n");
  assert.deepEqual((await list()).files, []);

  // A file an earlier diff took in leaves the list once a .gitignore covers it.
  await Deno.writeTextFile(`${a.path}/build.log`, "log\n");
  assert.deepEqual((await list()).files, [["build.log", "added", 1, 0]]);
  await Deno.writeTextFile(`${a.path}/.gitignore`, "*.log\n");
  assert.deepEqual((await list()).files, [[".gitignore", "added", 1, 0]]);

  // An ignored file the agent stages on purpose counts, as the real index says.
  await sh(a.path, "add", "-f", "build.log");
  assert.deepEqual((await list()).files, [
    [".gitignore", "added", 1, 0],
    ["build.log", "added", 1, 0],
  ]);

  // Committed in between (the real index changes): the list is still against the base.
  assert.ok(await commitWorktree(git, a.path, "wip"));
  await Deno.writeTextFile(`${a.path}/README.md`, "hello\ncommitted then edited\n");
  assert.deepEqual((await list()).files, [
    [".gitignore", "added", 1, 0],
    ["README.md", "modified", 1, 0],
    ["build.log", "added", 1, 0],
  ]);
  // The answer equals a fresh read of the same work tree through a throwaway index.
  const head = await sh(a.path, "rev-parse", "HEAD");
  const fresh = await treeOfWorkTree(git, a.path, { head, files: ["."] });
  assert.equal((await list()).tree, fresh);
});

Deno.test("worktree: diffs of one work tree at the same time all answer", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "dddd4444");
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${a.path}/f${i}.txt`, `${i}\n`);
  const trees = await Promise.all(
    Array.from({ length: 6 }, () => treeOfWorkTree(git, a.path, { head: null })),
  );
  assert.equal(new Set(trees).size, 1);
  assert.equal((await diffFiles(git, a.path, a.base.sha, trees[0]!)).length, 20);
});

Deno.test("worktree: a list updated from the previous one equals a list computed afresh (renames, deletes, binaries)", async () => {
  await using t = await setup();
  const line = (i: number) => `line ${i} of a file long enough to be paired in a rename\n`;
  const text = Array.from({ length: 40 }, (_, i) => line(i)).join("");
  for (const name of ["a.txt", "b.txt", "c.txt"]) {
    await Deno.writeTextFile(`${t.repo}/${name}`, text);
  }
  await sh(t.repo, "add", ".");
  await sh(t.repo, "commit", "-q", "-m", "files");
  const a = await agentTree(t.repo, t.state, "eeee5555");
  const steps: Array<[string, () => Promise<void>]> = [
    ["edit a", () => Deno.writeTextFile(`${a.path}/a.txt`, `${text}more\n`)],
    ["move b away", () => Deno.rename(`${a.path}/b.txt`, `${a.path}/moved.txt`)],
    ["edit the moved file", () => Deno.writeTextFile(`${a.path}/moved.txt`, `top\n${text}`)],
    ["delete c", () => Deno.remove(`${a.path}/c.txt`)],
    ["c comes back as d", () => Deno.writeTextFile(`${a.path}/d.txt`, text)],
    ["a binary file", () => Deno.writeFile(`${a.path}/blob.bin`, new Uint8Array([0, 1, 2, 0]))],
    ["b comes back", () => Deno.writeTextFile(`${a.path}/b.txt`, text)],
    ["a back as it was", () => Deno.writeTextFile(`${a.path}/a.txt`, text)],
    ["moved gone", () => Deno.remove(`${a.path}/moved.txt`)],
  ];
  let last = "";
  for (const [what, step] of steps) {
    await step();
    const tree = await treeOfWorkTree(git, a.path, { head: null });
    const updated = await diffFiles(git, a.path, a.base.sha, tree);
    const afresh = await diffFiles(
      createGitRunner({ PATH: Deno.env.get("PATH") }),
      a.path,
      a.base.sha,
      tree,
    );
    assert.deepEqual(updated, afresh, what);
    last = JSON.stringify(updated.map((f) => [f.path, f.status, f.old_path]));
  }
  assert.equal(
    last,
    JSON.stringify([
      ["blob.bin", "added", null],
      ["d.txt", "renamed", "c.txt"],
    ]),
  );
});

Deno.test("worktree: a kept index that cannot be used (a lock left behind, a directory in its way) still gives the right list", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "ffff6666");
  const gitDir = await sh(a.path, "rev-parse", "--path-format=absolute", "--git-dir");
  const kept = `${gitDir}/hero_orchestrator_tree_index`;
  const list = async () => {
    const tree = await treeOfWorkTree(git, a.path, { head: null });
    return (await diffFiles(git, a.path, a.base.sha, tree)).map((f) => [f.path, f.additions]);
  };
  await Deno.writeTextFile(`${a.path}/x.txt`, "1\n");
  assert.deepEqual(await list(), [["x.txt", 1]]);
  await Deno.writeTextFile(`${kept}.lock`, "");
  await Deno.writeTextFile(`${a.path}/x.txt`, "1\n2\n");
  assert.deepEqual(await list(), [["x.txt", 2]]);
  await Deno.remove(`${kept}.lock`);
  await Deno.remove(kept).catch(() => {});
  await Deno.mkdir(`${kept}/in_the_way`, { recursive: true });
  await Deno.writeTextFile(`${a.path}/x.txt`, "1\n2\n3\n");
  assert.deepEqual(await list(), [["x.txt", 3]]);
});

Deno.test("worktree: after a merge killed before the checkout followed, a restart leaves a checkout the user edited meanwhile and says what to run", async () => {
  await using t = await setup();
  const a = await agentTree(t.repo, t.state, "ab03cdef");
  await Deno.writeTextFile(`${a.path}/README.md`, "hello\nfrom the agent\n");
  await commitWorktree(git, a.path, "feat: agent");
  const helper = new URL("./testdata/merge_killed.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", helper, t.repo, a.branch, `${t.root}/tmp`, "after", `${t.root}/merges`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.signal, "SIGKILL", new TextDecoder().decode(out.stderr));
  const merged = await sh(t.repo, "rev-parse", "main");
  assert.equal(await sh(t.repo, "show", "main:README.md"), "hello\nfrom the agent");
  // Before the restart the user edits the file the merge changed (their checkout still has it old).
  await Deno.writeTextFile(`${t.repo}/README.md`, "hello\nmine\n");
  const warned: string[] = [];
  const finished = await finishInterruptedMerges(git, `${t.root}/merges`, (level, m) => {
    if (level === "warn") warned.push(m);
  });
  assert.deepEqual(finished.map((c) => [c.path, c.outcome]), [[t.repo, "left"]]);
  assert.equal(await Deno.readTextFile(`${t.repo}/README.md`), "hello\nmine\n", "edit kept");
  assert.equal(await sh(t.repo, "rev-parse", "main"), merged, "the merge stays");
  assert.equal(warned.length, 1);
  assert.match(warned[0]!, /README\.md/);
  assert.match(warned[0]!, new RegExp(`checkout ${merged} -- <file>`));
  assert.equal(await sh(t.repo, "fsck", "--no-progress", "--no-dangling"), "");
});

Deno.test("workTreeOf(): one git process per directory for creates close together; none after a failure is kept", async () => {
  await using t = await setup();
  const calls: string[] = [];
  const counting: typeof git = (cwd, args, options) => {
    calls.push(`${cwd} ${args.join(" ")}`);
    return git(cwd, args, options);
  };
  await Deno.mkdir(`${t.root}/plain`);
  const answers = await Promise.all([
    workTreeOf(counting, t.repo),
    workTreeOf(counting, t.repo),
    workTreeOf(counting, `${t.root}/plain`),
  ]);
  assert.deepEqual(answers, [
    { toplevel: t.repo, subdir: "" },
    { toplevel: t.repo, subdir: "" },
    null,
  ]);
  assert.equal(calls.length, 2, "one rev-parse per directory");
  assert.deepEqual(await workTreeOf(counting, t.repo), { toplevel: t.repo, subdir: "" });
  assert.equal(calls.length, 2, "reused within the memo window");
  // After the window a directory is asked again: a `git init` there is seen.
  await new Promise((r) => setTimeout(r, 2_100));
  await sh(`${t.root}/plain`, "init", "-q");
  assert.deepEqual(await workTreeOf(counting, `${t.root}/plain`), {
    toplevel: `${t.root}/plain`,
    subdir: "",
  });
  assert.equal(calls.length, 3);
});
