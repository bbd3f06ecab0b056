import assert from "node:assert/strict";
import { git, gitRepo } from "../testing/mod.ts";
import { bwrapArgs, gitMetadataDirs, probeSandbox } from "./sandbox.ts";

Deno.test("probeSandbox(): off when asked; a missing bwrap falls back to off, or refuses when required", async () => {
  assert.deepEqual(await probeSandbox({ requested: "off", bin: "bwrap" }), {
    mode: "off",
    reason: "HERO_ORCHESTRATOR_SANDBOX=off",
  });
  const missing = await probeSandbox({ requested: "auto", bin: "/nonexistent/bwrap" });
  assert.equal(missing.mode, "off");
  assert.match(
    missing.reason,
    /not installed .*apt-get install bubblewrap.*agents run unsandboxed/,
  );
  await assert.rejects(
    probeSandbox({ requested: "bwrap", bin: "/nonexistent/bwrap" }),
    /Cannot sandbox agents \(HERO_ORCHESTRATOR_SANDBOX=bwrap\): .*not installed/,
  );
  // A binary that runs but fails the trial (here: `false`) is not a sandbox either.
  const broken = await probeSandbox({ requested: "auto", bin: "false" });
  assert.equal(broken.mode, "off");
  assert.match(broken.reason, /exited with 1/);
});

Deno.test("bwrapArgs(): nested mounts in depth order; inside, hidden paths are empty and only the cwd is writable", async () => {
  const root = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "hero_bwrap_" });
  try {
    const home = `${root}/home`;
    const state = `${root}/state`;
    for (const d of [`${home}/.ssh`, `${state}/claude`, `${home}/project`]) {
      await Deno.mkdir(d, { recursive: true });
    }
    await Deno.writeTextFile(`${home}/.ssh/id_test`, "SECRET");
    await Deno.writeTextFile(`${home}/.netrc`, "SECRET");
    await Deno.writeTextFile(`${state}/db.sqlite`, "DB");
    await Deno.writeTextFile(`${home}/readme`, "shared");
    const mounts = {
      cwd: home,
      writable: [`${state}/claude`, `${root}/absent`],
      readable: [],
      hide: [`${home}/.ssh`, `${home}/.netrc`, state, `${home}/.aws`],
    };
    const args = bwrapArgs(mounts, ["sh", "-c", "x"]);
    const mountArgs = args.slice(args.indexOf("/tmp") + 1, args.indexOf("--chdir"));
    assert.deepEqual(mountArgs, [
      ...["--bind", home, home],
      ...["--tmpfs", state],
      ...["--tmpfs", `${home}/.ssh`],
      ...["--ro-bind", "/dev/null", `${home}/.netrc`],
      ...["--bind", `${state}/claude`, `${state}/claude`],
    ], "absent paths are skipped; a parent mount never covers a deeper one");
    const probe = [
      "cat .ssh/id_test 2>/dev/null || echo ssh:hidden",
      "cat .netrc; echo netrc:empty",
      `ls -A '${state}' | tr '\\n' ' '; echo`,
      `touch '${state}/claude/ok' && echo claude:writable`,
      "cat readme; echo",
      "touch project/new && echo cwd:writable",
      "touch /usr/evil 2>/dev/null || echo root:readonly",
      "ls -A /tmp | wc -l",
    ].join("; ");
    const out = await new Deno.Command("bwrap", {
      args: bwrapArgs(mounts, ["sh", "-c", probe]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.deepEqual(text.trim().split("\n"), [
      "ssh:hidden",
      "netrc:empty",
      "claude ",
      "claude:writable",
      "shared",
      "cwd:writable",
      "root:readonly",
      "0",
    ]);
    assert.ok((await Deno.stat(`${home}/project/new`)).isFile);
    assert.equal(await Deno.readTextFile(`${state}/db.sqlite`), "DB");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("gitMetadataDirs(): an agent in a subdirectory or a worktree can still commit inside the sandbox", async () => {
  const root = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "hero_bwrap_git_" });
  try {
    const repo = `${root}/repo`;
    await gitRepo(repo);
    await Deno.mkdir(`${repo}/sub`);
    await git(repo, "worktree", "add", "-q", "-b", "side", `${root}/wt`);
    assert.deepEqual(gitMetadataDirs(repo), [], "a repository root's .git is inside its cwd");
    assert.deepEqual(gitMetadataDirs(`${repo}/sub`), [`${repo}/.git`]);
    assert.deepEqual(gitMetadataDirs(`${root}/wt`), [`${repo}/.git/worktrees/wt`, `${repo}/.git`]);
    assert.deepEqual(gitMetadataDirs(root), []);
    for (const [cwd, name] of [[`${repo}/sub`, "sub.txt"], [`${root}/wt`, "wt.txt"]] as const) {
      const script =
        `echo x > ${name} && git add ${name} && git commit -q -m ${name} && echo committed`;
      const out = await new Deno.Command("bwrap", {
        args: bwrapArgs({ cwd, writable: gitMetadataDirs(cwd), readable: [], hide: [] }, [
          "sh",
          "-c",
          script,
        ]),
        env: { HOME: root, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        new TextDecoder().decode(out.stdout).trim(),
        "committed",
        new TextDecoder().decode(out.stderr),
      );
    }
    assert.match(await git(repo, "log", "--oneline", "main"), /sub\.txt/);
    assert.match(await git(repo, "log", "--oneline", "side"), /wt\.txt/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
