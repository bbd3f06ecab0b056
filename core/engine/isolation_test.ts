/**
 * Worktree isolation end to end through the engine: real git, the fake claude writing files with
 * shell steps, the daemon's worktrees under its state dir.
 */
import assert from "node:assert/strict";
import { IsolationError } from "../git/mod.ts";
import { ValidationError } from "../models/mod.ts";
import { AgentDiff, CommitInfo } from "../rpc/commit.ts";
import { openEngine } from "./mod.ts";
import { testEnv, waitForStatus, withEngine } from "./testing_harness.ts";

async function sh(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

async function makeRepo(path: string): Promise<string> {
  await Deno.mkdir(path, { recursive: true });
  const repo = await Deno.realPath(path);
  await sh(repo, "init", "-q", "-b", "main");
  await sh(repo, "config", "user.email", "t@example.com");
  await sh(repo, "config", "user.name", "T");
  await Deno.writeTextFile(`${repo}/README.md`, "hello\n");
  await sh(repo, "add", ".");
  await sh(repo, "commit", "-q", "-m", "init");
  return repo;
}

/** A fake claude turn that runs `cmd` in the agent's cwd, then answers. */
function writes(cmd: string): string {
  return `FAKE:${JSON.stringify({ auto: true, steps: [{ spawnWait: cmd }] })}`;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("isolation: two agents write the same file in their own worktrees; diff, fast-forward, merge_conflict, discard, delete", async () => {
  await withEngine({}, async (h) => {
    const repo = await makeRepo(`${h.dir}/my repo ü`);
    const statusBefore = await sh(repo, "status", "--porcelain");
    const { supervisor, shadows, store } = h.engine;
    const a = await supervisor.worktrees.create({
      prompt: writes("printf 'from a\\n' > same.txt"),
      cwd: repo,
      name: "Agent A",
    });
    const b = await supervisor.worktrees.create({
      prompt: writes("printf 'from b\\n' > same.txt"),
      cwd: repo,
      name: "Agent B",
    });
    await waitForStatus(h, a.id, "awaiting_review", 30_000);
    await waitForStatus(h, b.id, "awaiting_review", 30_000);
    const isoA = store.isolation(a.id)!;
    const isoB = store.isolation(b.id)!;
    assert.equal(isoA.repo_root, repo);
    assert.equal(isoA.base_ref, "refs/heads/main");
    assert.equal(isoA.base_sha, await sh(repo, "rev-parse", "HEAD"));
    assert.match(isoA.branch, new RegExp(`^hero/agent-a-${a.id.replace(/-/g, "").slice(-8)}$`));
    assert.ok(isoA.worktree_path.startsWith(`${h.engine.paths.stateDir}/worktrees/`));
    // The agent keeps the cwd asked for (lists, filters); claude ran in its worktree.
    assert.equal(store.getAgent(a.id)!.cwd, repo);
    assert.equal(await Deno.readTextFile(`${isoA.worktree_path}/same.txt`), "from a\n");
    assert.equal(await Deno.readTextFile(`${isoB.worktree_path}/same.txt`), "from b\n");
    // The user's tree and its status are untouched.
    assert.equal(await sh(repo, "status", "--porcelain"), statusBefore);
    assert.equal(exists(`${repo}/same.txt`), false);

    // A follow-up runs in the same worktree.
    await supervisor.followUp(a.id, writes("printf 'two\\n' > second.txt"));
    await waitForStatus(h, a.id, "awaiting_review", 30_000);
    assert.equal(await Deno.readTextFile(`${isoA.worktree_path}/second.txt`), "two\n");

    const diffA = await supervisor.worktrees.diff(a.id, { path: "same.txt" });
    assert.deepEqual(diffA.files.map((f) => [f.path, f.status, f.additions, f.deletions]), [
      ["same.txt", "added", 1, 0],
      ["second.txt", "added", 1, 0],
    ]);
    assert.match(diffA.files[0]!.patch!.text, /^\+from a$/m);
    assert.equal(diffA.files[1]!.patch, null);
    const diffB = await supervisor.worktrees.diff(b.id, { patches: true });
    assert.deepEqual(diffB.files.map((f) => f.path), ["same.txt"]);
    assert.match(diffB.files[0]!.patch!.text, /^\+from b$/m);
    // What agent.diff and agent.commit_info answer matches the contract.
    AgentDiff.parse(diffB);
    CommitInfo.parse({
      id: a.id,
      worktree: null,
      proposal: null,
      shadow_pending: false,
      isolation: store.isolation(a.id),
    });

    const first = await shadows.complete(a.id, { merge: true });
    assert.equal(first.merge!.kind, "fast_forward");
    assert.equal(first.agent.status, "completed");
    assert.equal(await sh(repo, "rev-parse", "main"), first.merge!.sha);
    assert.equal(await Deno.readTextFile(`${repo}/same.txt`), "from a\n");
    assert.equal(await sh(repo, "status", "--porcelain"), "");
    assert.equal(exists(isoA.worktree_path), false);
    assert.equal(await sh(repo, "branch", "--list", isoA.branch), "");

    const mainBefore = await sh(repo, "rev-parse", "main");
    const err = await shadows.complete(b.id, { merge: true }).then(() => null, (e) => e);
    assert.ok(err instanceof IsolationError, String(err));
    assert.equal(err.code, "merge_conflict");
    assert.deepEqual(err.files, ["same.txt"]);
    assert.equal(await sh(repo, "rev-parse", "main"), mainBefore);
    assert.equal(await sh(repo, "status", "--porcelain"), "");
    assert.equal(store.getAgent(b.id)!.status, "awaiting_review");

    // b's branch now holds a commit main lacks: discarding it needs force.
    const refused = await supervisor.worktrees.discard(b.id).then(() => null, (e) => e);
    assert.ok(refused instanceof IsolationError && refused.code === "unmerged_work");
    assert.ok(exists(isoB.worktree_path));
    const discarded = await supervisor.worktrees.discard(b.id, { force: true });
    assert.equal(discarded.status, "cancelled");
    assert.equal(discarded.error_code, "discarded");
    assert.equal(exists(isoB.worktree_path), false);
    assert.equal(await sh(repo, "branch", "--list", "hero/*"), "");
    assert.doesNotMatch(await sh(repo, "worktree", "list"), /worktrees/);

    await supervisor.delete(a.id);
    await supervisor.delete(b.id);
    await sh(repo, "fsck", "--no-progress");
  });
});

Deno.test("isolation: delete removes a worktree, refusing unmerged work unless forced", async () => {
  await withEngine({}, async (h) => {
    const repo = await makeRepo(`${h.dir}/repo`);
    const { supervisor, store } = h.engine;
    // A cwd below the repository's top runs at the same place in the worktree.
    await Deno.mkdir(`${repo}/sub dir`);
    const a = await supervisor.worktrees.create({
      prompt: writes("echo x > x.txt"),
      cwd: `${repo}/sub dir`,
    });
    await waitForStatus(h, a.id, "awaiting_review", 30_000);
    await h.engine.shadows.complete(a.id);
    const iso = store.isolation(a.id)!;
    assert.equal(await Deno.readTextFile(`${iso.worktree_path}/sub dir/x.txt`), "x\n");
    assert.equal(exists(`${repo}/sub dir/x.txt`), false);
    const err = await supervisor.delete(a.id).then(() => null, (e) => e);
    assert.ok(err instanceof IsolationError && err.code === "unmerged_work", String(err));
    assert.ok(store.getAgent(a.id));
    await supervisor.delete(a.id, { force: true });
    assert.equal(store.getAgent(a.id), undefined);
    assert.equal(exists(iso.worktree_path), false);
    assert.equal(await sh(repo, "branch", "--list", iso.branch), "");
    assert.equal(await sh(repo, "status", "--porcelain"), "");
  });
});

Deno.test("isolation: a plain directory, a bare repository or submodules fall back to none; worktree explicitly there is refused", async () => {
  await withEngine({}, async (h) => {
    const { supervisor, store } = h.engine;
    const plain = await supervisor.worktrees.create({ prompt: "hi", cwd: h.cwd });
    assert.equal(store.isolation(plain.id), undefined);
    assert.equal(plain.cwd, await Deno.realPath(h.cwd));
    await sh(h.dir, "init", "-q", "--bare", "bare.git");
    const bare = await supervisor.worktrees.create({ prompt: "hi", cwd: `${h.dir}/bare.git` });
    assert.equal(store.isolation(bare.id), undefined);
    const err = await supervisor.worktrees.create({
      prompt: "hi",
      cwd: h.cwd,
      isolation: "worktree",
    })
      .then(() => null, (e) => e);
    assert.ok(err instanceof ValidationError && err.code === "invalid_isolation", String(err));
    const repo = await makeRepo(`${h.dir}/repo`);
    // A repository with submodules: refused when asked for, none by default.
    const withSub = await makeRepo(`${h.dir}/with sub`);
    await Deno.writeTextFile(
      `${withSub}/.gitmodules`,
      '[submodule "lib"]\n\tpath = lib\n\turl = ../repo\n',
    );
    await sh(withSub, "add", ".gitmodules");
    await sh(withSub, "commit", "-q", "-m", "submodules");
    const sub = await supervisor.worktrees.create({
      prompt: "hi",
      cwd: withSub,
      isolation: "worktree",
    })
      .then(() => null, (e) => e);
    assert.ok(sub instanceof ValidationError && /submodules/.test(sub.message), String(sub));
    const subAuto = await supervisor.worktrees.create({ prompt: "hi", cwd: withSub });
    assert.equal(store.isolation(subAuto.id), undefined);
    const none = await supervisor.worktrees.create({ prompt: "hi", cwd: repo, isolation: "none" });
    assert.equal(store.isolation(none.id), undefined);
    assert.equal(none.cwd, repo);
    await waitForStatus(h, plain.id, "awaiting_review", 30_000);
    await waitForStatus(h, bare.id, "awaiting_review", 30_000);
    await waitForStatus(h, none.id, "awaiting_review", 30_000);
    await waitForStatus(h, subAuto.id, "awaiting_review", 30_000);
  });
});

Deno.test("isolation: at start an orphaned worktree is pruned and a live agent missing its worktree fails clearly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_engine_" });
  try {
    const env = testEnv(dir);
    const repo = await makeRepo(`${dir}/repo`);
    let engine = await openEngine({ env, log: () => {} });
    let kept: string;
    let lost: string;
    let orphanPath: string;
    try {
      const h = { engine, dir, cwd: repo, env };
      const a = await engine.supervisor.worktrees.create({
        prompt: writes("echo a > a.txt"),
        cwd: repo,
      });
      const b = await engine.supervisor.worktrees.create({ prompt: "hi", cwd: repo });
      const c = await engine.supervisor.worktrees.create({ prompt: "hi", cwd: repo });
      await waitForStatus(h, a.id, "awaiting_review", 30_000);
      await waitForStatus(h, b.id, "awaiting_review", 30_000);
      await waitForStatus(h, c.id, "awaiting_review", 30_000);
      kept = a.id;
      lost = b.id;
      orphanPath = engine.store.isolation(c.id)!.worktree_path;
      // c's row goes while its worktree stays (as if the daemon died in between); b's worktree is
      // removed behind the daemon's back.
      engine.store.deleteAgent(c.id);
      await Deno.remove(engine.store.isolation(b.id)!.worktree_path, { recursive: true });
    } finally {
      await engine.close();
    }
    engine = await openEngine({ env, log: () => {} });
    try {
      assert.equal(exists(orphanPath), false);
      assert.doesNotMatch(await sh(repo, "worktree", "list"), new RegExp(orphanPath));
      const failed = engine.store.getAgent(lost)!;
      assert.equal(failed.error_code, "worktree_missing");
      const err = await engine.supervisor.followUp(lost, "again").then(() => null, (e) => e);
      assert.match(String(err), /worktree .* is missing/);
      assert.ok(exists(engine.store.isolation(kept)!.worktree_path));
      assert.equal(await sh(repo, "status", "--porcelain"), "");
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("isolation in the sandbox: an agent commits on its own branch in its worktree, which then merges", async () => {
  // Outside /tmp, so the sandbox's private /tmp hides nothing by accident.
  const root = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "hero_iso_sandbox_" });
  try {
    const env = {
      PATH_VAR: `${root}/var`,
      PATH_SOCKET: `${root}/sockets`,
      HOME: `${root}/home`,
      HERO_ORCHESTRATOR_SANDBOX: "bwrap",
    };
    await Deno.mkdir(`${root}/home`);
    await withEngine({ env }, async (h) => {
      assert.equal(h.engine.sandbox.mode, "bwrap");
      const repo = await makeRepo(`${root}/home/repo`);
      const a = await h.engine.supervisor.worktrees.create({
        prompt: writes(
          "echo one > one.txt && git add one.txt && git commit -q -m 'agent: one' && echo two > two.txt",
        ),
        cwd: repo,
      });
      await waitForStatus(h, a.id, "awaiting_review", 30_000);
      const iso = h.engine.store.isolation(a.id)!;
      assert.equal(await sh(repo, "log", "-1", "--format=%s", iso.branch), "agent: one");
      assert.equal(await sh(repo, "status", "--porcelain"), "");
      const diff = await h.engine.supervisor.worktrees.diff(a.id);
      assert.deepEqual(diff.files.map((f) => f.path), ["one.txt", "two.txt"]);
      const done = await h.engine.shadows.complete(a.id, { merge: true });
      assert.equal(done.merge!.kind, "fast_forward");
      assert.equal(
        await sh(repo, "log", "-2", "--format=%s", "main").then((s) => s.split("\n")[1]),
        "agent: one",
      );
      assert.equal(await Deno.readTextFile(`${repo}/two.txt`), "two\n");
      assert.equal(await sh(repo, "status", "--porcelain"), "");
    });
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});

Deno.test("isolation: agents created at once in one repository each get their worktree", async () => {
  await withEngine({}, async (h) => {
    const repo = await makeRepo(`${h.dir}/repo`);
    const agents = await Promise.all(
      Array.from(
        { length: 6 },
        (_, i) =>
          h.engine.supervisor.worktrees.create({
            prompt: writes(`echo ${i} > f${i}.txt`),
            cwd: repo,
          }),
      ),
    );
    for (const [i, a] of agents.entries()) {
      await waitForStatus(h, a.id, "awaiting_review", 60_000);
      const iso = h.engine.store.isolation(a.id)!;
      assert.equal(await Deno.readTextFile(`${iso.worktree_path}/f${i}.txt`), `${i}\n`);
    }
    assert.equal((await sh(repo, "branch", "--list", "hero/*")).split("\n").length, 6);
    assert.equal(await sh(repo, "status", "--porcelain"), "");
  });
});

Deno.test("isolation: ask to resolve merges the base into the agent's branch, sends the files, and then fast-forwards", async () => {
  await withEngine({}, async (h) => {
    const repo = await makeRepo(`${h.dir}/repo`);
    const { supervisor, shadows, store } = h.engine;
    const a = await supervisor.worktrees.create({ prompt: writes("echo a > same.txt"), cwd: repo });
    const b = await supervisor.worktrees.create({ prompt: writes("echo b > same.txt"), cwd: repo });
    await waitForStatus(h, a.id, "awaiting_review", 30_000);
    await waitForStatus(h, b.id, "awaiting_review", 30_000);
    await shadows.complete(a.id, { merge: true });
    const conflict = await shadows.complete(b.id, { merge: true }).then(() => null, (e) => e);
    assert.equal(conflict?.code, "merge_conflict");
    const main = await sh(repo, "rev-parse", "main");

    const asked = await supervisor.worktrees.resolveConflicts(b.id);
    assert.deepEqual(asked.conflicts, ["same.txt"]);
    const iso = store.isolation(b.id)!;
    assert.match(await Deno.readTextFile(`${iso.worktree_path}/same.txt`), /^<<<<<<< /m);
    await waitForStatus(h, b.id, "awaiting_review", 30_000);
    // The follow-up named the file (the fake claude echoes its prompt).
    const said = store.readMessages(b.id, 0, 1000).map((m) => m.raw).join("\n");
    assert.match(said, /conflicts in:\\n- same\.txt/);
    // Until the merge is concluded, merging is refused and nothing changes.
    const early = await shadows.complete(b.id, { merge: true }).then(() => null, (e) => e);
    assert.ok(early instanceof IsolationError && early.code === "merge_refused", String(early));
    assert.equal(await sh(repo, "rev-parse", "main"), main);

    // What the agent is asked to do: fix the file, add it, conclude the merge.
    await Deno.writeTextFile(`${iso.worktree_path}/same.txt`, "a and b\n");
    await sh(iso.worktree_path, "add", "same.txt");
    await sh(iso.worktree_path, "commit", "-q", "--no-edit");
    const done = await shadows.complete(b.id, { merge: true });
    assert.equal(done.merge!.kind, "fast_forward");
    assert.equal(await Deno.readTextFile(`${repo}/same.txt`), "a and b\n");
    assert.equal(await sh(repo, "status", "--porcelain"), "");
    await sh(repo, "fsck", "--no-progress");
  });
});

Deno.test("isolation: branch names the agent's branch; fetch starts from the upstream's tip; nothing is pushed", async () => {
  await withEngine({}, async (h) => {
    const origin = await makeRepo(`${h.dir}/origin`);
    await sh(h.dir, "clone", "-q", origin, `${h.dir}/clone`);
    const clone = await Deno.realPath(`${h.dir}/clone`);
    // The upstream moves on after the clone; the user's main stays behind.
    await Deno.writeTextFile(`${origin}/up.txt`, "up\n");
    await sh(origin, "add", ".");
    await sh(origin, "commit", "-q", "-m", "upstream work");
    const upstream = await sh(origin, "rev-parse", "HEAD");
    const local = await sh(clone, "rev-parse", "main");
    assert.notEqual(local, upstream);
    const { supervisor, shadows, store } = h.engine;

    const a = await supervisor.worktrees.create({
      prompt: writes("echo a > a.txt"),
      cwd: clone,
      branch: "feature/a",
      fetch: true,
    });
    const iso = store.isolation(a.id)!;
    assert.equal(iso.branch, "feature/a");
    assert.equal(iso.base_ref, "refs/heads/main");
    assert.equal(iso.base_sha, upstream);
    assert.equal(await sh(clone, "rev-parse", "main"), local, "the user's main is not moved");
    await waitForStatus(h, a.id, "awaiting_review", 30_000);
    assert.equal(await Deno.readTextFile(`${iso.worktree_path}/up.txt`), "up\n");
    const done = await shadows.complete(a.id, { merge: true });
    assert.equal(done.merge?.kind, "fast_forward");
    assert.equal(await sh(clone, "show", "main:a.txt"), "a");
    assert.equal(await sh(origin, "rev-parse", "HEAD"), upstream, "nothing was pushed");
    assert.equal(await sh(origin, "branch", "--list", "feature/*"), "");

    const refused = async (input: Record<string, unknown>, field: string) => {
      const err = await supervisor.worktrees.create({ prompt: "hi", cwd: clone, ...input })
        .then(() => null, (e) => e);
      assert.ok(err instanceof ValidationError, `${JSON.stringify(input)}: ${err}`);
      assert.equal(err.code, "invalid_isolation");
      assert.equal(err.field, field);
      return err.message;
    };
    assert.match(await refused({ branch: "main" }, "branch"), /exists already/);
    assert.match(await refused({ branch: "bad..name" }, "branch"), /not a valid branch name/);
    assert.match(await refused({ branch: "x", isolation: "none" }, "branch"), /needs isolation/);
    const noUpstream = await supervisor.worktrees.create({ prompt: "hi", cwd: origin, fetch: true })
      .then(() => null, (e) => e);
    assert.match(String(noUpstream), /has no upstream/);
    assert.equal(await sh(clone, "worktree", "list").then((l) => l.split("\n").length), 1);
  });
});

Deno.test("isolation: a merge killed after the ref update, before the user's checkout followed, is finished by the restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hero_engine_" });
  try {
    const env = testEnv(dir);
    const repo = await makeRepo(`${dir}/repo`);
    let engine = await openEngine({ env, log: () => {} });
    const stateDir = engine.paths.stateDir;
    let branch: string;
    try {
      const h = { engine, dir, cwd: repo, env };
      const a = await engine.supervisor.worktrees.create({
        prompt: writes("echo merged > merged.txt && git add merged.txt && git commit -qm agent"),
        cwd: repo,
      });
      await waitForStatus(h, a.id, "awaiting_review", 30_000);
      branch = engine.store.isolation(a.id)!.branch;
    } finally {
      await engine.close();
    }
    // The merge of the daemon's state dir, killed right after main moved.
    const helper = new URL("../git/testdata/merge_killed.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", helper, repo, branch, `${stateDir}/tmp`, "after", `${stateDir}/merges`],
      env: { GIT_AUTHOR_NAME: "T", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "T" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.signal, "SIGKILL", new TextDecoder().decode(out.stderr));
    const tip = await sh(repo, "rev-parse", branch);
    assert.equal(await sh(repo, "rev-parse", "main"), tip);
    assert.equal(exists(`${repo}/merged.txt`), false, "the checkout did not follow yet");
    assert.match(await sh(repo, "status", "--porcelain"), /merged\.txt/);

    engine = await openEngine({ env, log: () => {} });
    try {
      assert.equal(await sh(repo, "status", "--porcelain", "--untracked-files=all"), "");
      assert.equal(await sh(repo, "rev-parse", "HEAD"), tip);
      assert.equal(await Deno.readTextFile(`${repo}/merged.txt`), "merged\n");
      assert.deepEqual([...Deno.readDirSync(`${stateDir}/merges`)], [], "journal finished");
      assert.equal(await sh(repo, "fsck", "--no-progress", "--no-dangling"), "");
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
