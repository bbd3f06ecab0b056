/**
 * `diff`, `merge` and `discard` end to end: the server under its production permission set, the
 * fake claude writing files in its worktree, the CLI under its own set, real git.
 */
import assert from "node:assert/strict";
import { fakePrompt } from "@hero/core/testing";
import { DENO_DIR, spawnDaemon, tempEnv } from "@hero/server/testing/daemon";
import { REPO_ROOT, runArgs } from "@hero/tools/permissions";
import { createColors } from "./color.ts";
import { colorPatch, formatStat } from "./commands/review.ts";

async function cli(env: Record<string, string>, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...runArgs("cli", env), ...args],
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

function writes(cmd: string): string {
  return fakePrompt({ auto: true, steps: [{ spawnWait: cmd }] });
}

Deno.test("cli e2e: run in a repo isolates the agent; diff --stat, diff, merge; discard --force", async () => {
  await using t = await tempEnv();
  await using _server = await spawnDaemon(t.env);
  const env = { ...t.env, DENO_DIR, NO_COLOR: "1" };
  const repo = `${t.work}/my repo ü`;
  await Deno.mkdir(repo);
  await git(repo, "init", "-q", "-b", "main");
  await git(repo, "config", "user.email", "t@example.com");
  await git(repo, "config", "user.name", "T");
  await Deno.writeTextFile(`${repo}/README.md`, "hello\n");
  await git(repo, "add", ".");
  await git(repo, "commit", "-q", "-m", "init");

  const run = await cli(env, [
    "run",
    "--cwd",
    repo,
    "--wait",
    writes("printf 'new\\n' > new.txt && printf 'hello\\nmore\\n' > README.md"),
  ]);
  assert.equal(run.code, 0, run.stderr);
  const id = /agent (\S+) awaiting_review/.exec(run.stderr)?.[1];
  assert.ok(id, run.stderr);
  assert.equal(await git(repo, "status", "--porcelain"), "");

  const stat = await cli(env, ["diff", id, "--stat"]);
  assert.equal(stat.code, 0, stat.stderr);
  assert.equal(
    stat.stdout,
    "M README.md  +1 -0\nA new.txt  +1 -0\n2 files changed, +2 -0\n",
  );
  const full = await cli(env, ["diff", id]);
  assert.match(full.stdout, /^\+more$/m);
  assert.match(full.stdout, /^\+\+\+ b\/new\.txt$/m);
  assert.ok(!full.stdout.includes("\x1b["), "no colour when not a terminal");

  const merged = await cli(env, ["merge", id]);
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stdout, new RegExp(`^${id} completed: hero/\\S+ → main \\(fast-forward\\)`));
  assert.equal(await Deno.readTextFile(`${repo}/new.txt`), "new\n");
  assert.equal(await git(repo, "status", "--porcelain"), "");
  assert.equal(await git(repo, "branch", "--list", "hero/*"), "");

  const second = await cli(env, [
    "run",
    "--cwd",
    repo,
    "--isolation",
    "worktree",
    "--branch",
    "feature/x",
    "--wait",
    writes("echo x > x.txt"),
  ]);
  const id2 = /agent (\S+) awaiting_review/.exec(second.stderr)?.[1];
  assert.ok(id2, second.stderr);
  assert.equal(
    await git(repo, "branch", "--list", "--format=%(refname:short)", "feature/x"),
    "feature/x",
  );
  const usage = await cli(env, ["run", "--cwd", repo, "--isolation", "sometimes", "x"]);
  assert.equal(usage.code, 2);
  const refused = await cli(env, ["discard", id2]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /unmerged|uncommitted/);
  const discarded = await cli(env, ["discard", id2, "--force"]);
  assert.equal(discarded.code, 0, discarded.stderr);
  assert.equal(discarded.stdout, `${id2} cancelled\n`);
  assert.doesNotMatch(await git(repo, "worktree", "list"), /worktrees/);
  assert.equal(await git(repo, "branch", "--list", "feature/x"), "");

  // A fork of an isolated agent gets its own worktree; asked for none, it works in the repo.
  const third = await cli(env, ["run", "--cwd", repo, "--wait", "fork me"]);
  const id3 = /agent (\S+) awaiting_review/.exec(third.stderr)?.[1];
  assert.ok(id3, third.stderr);
  const logs = (await cli(env, ["logs", id3, "--json"])).stdout.trim().split("\n")
    .map((l) => JSON.parse(l) as { seq: number; type: string });
  const at = String(logs.find((l) => l.type === "assistant")!.seq);
  const forked = JSON.parse((await cli(env, ["fork", id3, "--at", at, "--json", "go"])).stdout);
  const plain = JSON.parse(
    (await cli(env, ["fork", id3, "--at", at, "--isolation", "none", "--json", "go"])).stdout,
  );
  const branches = await git(repo, "branch", "--list", "--format=%(refname:short)", "hero/*");
  assert.equal(branches.split("\n").length, 2, branches);
  assert.equal((await cli(env, ["diff", forked.id, "--stat"])).code, 0);
  assert.notEqual(plain.id, forked.id);
  const bad = await cli(env, ["fork", id3, "--at", at, "--isolation", "maybe", "go"]);
  assert.equal(bad.code, 2);
});

Deno.test("cli diff: colour only when asked for (a terminal); plain otherwise", () => {
  const diff = {
    id: "x",
    isolation: "worktree" as const,
    repo_root: "/r",
    base_sha: "abc",
    branch: "hero/x",
    files: [{
      path: "b.bin",
      old_path: null,
      status: "added" as const,
      additions: null,
      deletions: null,
      binary: true,
      patch: null,
    }, {
      path: "new.ts",
      old_path: "old.ts",
      status: "renamed" as const,
      additions: 2,
      deletions: 1,
      binary: false,
      patch: null,
    }],
    additions: 2,
    deletions: 1,
    entangled: [],
  };
  assert.equal(
    formatStat(diff, createColors(false)),
    "A b.bin  binary\nR old.ts → new.ts  +2 -1\n2 files changed, +2 -1\n",
  );
  assert.ok(formatStat(diff, createColors(true)).includes("\x1b[32m+2\x1b[39m"));
  const patch = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n";
  assert.equal(colorPatch(patch, createColors(false)), patch);
  assert.ok(colorPatch(patch, createColors(true)).includes("\x1b[31m-old\x1b[39m\n\x1b[32m+new"));
});
