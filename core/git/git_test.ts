/** Snapshot, diff and commit against real repositories. */
import assert from "node:assert/strict";
import {
  assertCommittable,
  changesSince,
  commitFiles,
  CommitRefusedError,
  createGitRunner,
  describeChanges,
  gitEnv,
  takeSnapshot,
} from "./git.ts";

const git = createGitRunner({ PATH: Deno.env.get("PATH"), HOME: Deno.env.get("HOME") });

async function sh(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

async function repo(): Promise<string & AsyncDisposable> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "hero_git_" }));
  await sh(dir, "init", "-q", "-b", "main");
  await sh(dir, "config", "user.email", "t@example.com");
  await sh(dir, "config", "user.name", "T");
  for (const f of ["keep.txt", "gone.txt", "dirty.txt", "with space.txt"]) {
    await Deno.writeTextFile(`${dir}/${f}`, `${f}\n`);
  }
  await sh(dir, "add", ".");
  await sh(dir, "commit", "-q", "-m", "init");
  return Object.assign(dir, {
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  }) as unknown as string & AsyncDisposable;
}

Deno.test("git: only the files changed since the snapshot are committed; the rest stays as it was", async () => {
  await using dir = await repo();
  const root = String(dir);
  await Deno.writeTextFile(`${root}/dirty.txt`, "user's own change\n");
  await Deno.writeTextFile(`${root}/staged.txt`, "staged by the user\n");
  await sh(root, "add", "staged.txt");
  const snap = (await takeSnapshot(git, `${root}`))!;
  assert.equal(snap.toplevel, root);
  assert.deepEqual(Object.keys(snap.entries).sort(), ["dirty.txt", "staged.txt"]);
  // The agent: edits, deletes, adds (with awkward names), touches nothing else.
  await Deno.writeTextFile(`${root}/keep.txt`, "changed\n");
  await Deno.remove(`${root}/gone.txt`);
  await Deno.writeTextFile(`${root}/with space.txt`, "edited\n");
  await Deno.writeTextFile(`${root}/*.txt`, "a glob-looking name\n");
  await Deno.mkdir(`${root}/sub`);
  await Deno.writeTextFile(`${root}/sub/new.ts`, "export {};\n");
  const changes = await changesSince(git, snap);
  assert.deepEqual(changes.files, [
    "*.txt",
    "gone.txt",
    "keep.txt",
    "sub/new.ts",
    "with space.txt",
  ]);
  assert.deepEqual(changes.untouched, ["dirty.txt", "staged.txt"]);
  assert.deepEqual(changes.entangled, []);
  assertCommittable(changes);
  const { status, diff } = await describeChanges(git, changes);
  assert.match(status, /A sub\/new\.ts/);
  assert.match(diff, /\+changed/);
  assert.match(diff, /new file sub\/new\.ts/);
  const head = await sh(root, "rev-parse", "HEAD");
  const sha = await commitFiles(git, changes, "feat: agent work\n\nbody", "test");
  assert.equal(await sh(root, "rev-parse", "HEAD"), sha);
  assert.equal(await sh(root, "rev-parse", "HEAD~1"), head);
  assert.equal(await sh(root, "log", "-1", "--format=%B"), "feat: agent work\n\nbody");
  assert.deepEqual(
    (await sh(root, "show", "--name-status", "--format=", "HEAD")).split("\n").sort(),
    ["A\t*.txt", "A\tsub/new.ts", "D\tgone.txt", "M\tkeep.txt", "M\twith space.txt"],
  );
  // The user's staged and unstaged changes are exactly as before.
  assert.equal(await sh(root, "status", "--porcelain"), "M dirty.txt\nA  staged.txt");
});

Deno.test("git: conflicts, a moved HEAD, re-changed dirty files and no changes are refused", async () => {
  await using dir = await repo();
  const root = String(dir);
  await Deno.writeTextFile(`${root}/dirty.txt`, "mine\n");
  const snap = (await takeSnapshot(git, root))!;
  const refusal = async () => {
    try {
      assertCommittable(await changesSince(git, snap));
      return "committable";
    } catch (err) {
      assert.ok(err instanceof CommitRefusedError);
      assert.equal(err.code, "commit_refused");
      return err.reason;
    }
  };
  assert.equal(await refusal(), "no_changes");
  await Deno.writeTextFile(`${root}/dirty.txt`, "mine, then the agent's\n");
  assert.equal(await refusal(), "unrelated_changes");
  await Deno.writeTextFile(`${root}/dirty.txt`, "mine\n");
  await Deno.writeTextFile(`${root}/keep.txt`, "agent\n");
  assert.equal(await refusal(), "committable");
  await sh(root, "commit", "-q", "--allow-empty", "-m", "someone else");
  assert.equal(await refusal(), "head_moved");
  // A merge in progress.
  await using other = await repo();
  const o = String(other);
  const s2 = (await takeSnapshot(git, o))!;
  await sh(o, "checkout", "-q", "-b", "side");
  await Deno.writeTextFile(`${o}/keep.txt`, "side\n");
  await sh(o, "commit", "-q", "-am", "side");
  await sh(o, "checkout", "-q", "main");
  await Deno.writeTextFile(`${o}/keep.txt`, "main\n");
  await sh(o, "commit", "-q", "-am", "main");
  await new Deno.Command("git", { args: ["merge", "side"], cwd: o, stdout: "null", stderr: "null" })
    .output();
  const c = await changesSince(git, { ...s2, head: await sh(o, "rev-parse", "HEAD") });
  assert.ok(c.conflicts.includes("keep.txt"), JSON.stringify(c));
  assert.throws(
    () => assertCommittable(c),
    (e) => e instanceof CommitRefusedError && e.reason === "conflicts",
  );
  assert.equal(await takeSnapshot(git, "/"), null, "not a git work tree");
});

Deno.test("git runs with a clean environment and without hooks", async () => {
  assert.deepEqual(
    Object.keys(gitEnv({ PATH: "/bin", ANTHROPIC_API_KEY: "sk", AWS_SECRET_ACCESS_KEY: "x" }))
      .sort(),
    [
      "GIT_CONFIG_NOSYSTEM",
      "GIT_LITERAL_PATHSPECS",
      "GIT_OPTIONAL_LOCKS",
      "GIT_TERMINAL_PROMPT",
      "LANG",
      "PATH",
    ],
  );
  await using dir = await repo();
  const root = String(dir);
  const marker = `${root}/../hook-ran-${crypto.randomUUID()}`;
  await Deno.writeTextFile(
    `${root}/.git/hooks/reference-transaction`,
    `#!/bin/sh\ntouch ${marker}\n`,
  );
  await Deno.chmod(`${root}/.git/hooks/reference-transaction`, 0o755);
  const snap = (await takeSnapshot(git, root))!;
  await Deno.writeTextFile(`${root}/keep.txt`, "x\n");
  await commitFiles(git, await changesSince(git, snap), "fix: x", "test");
  assert.throws(() => Deno.statSync(marker), "a repository hook ran");
});
