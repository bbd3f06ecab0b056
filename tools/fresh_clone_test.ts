/**
 * A new user: a fresh clone in a temp dir, a fresh HOME, and the README's two commands, nothing
 * else. `start` must print the admin URL (which must serve the dashboard) and stop cleanly on
 * SIGTERM; `test` is run on a tiny filtered subset (the whole suite would run itself recursively).
 *
 * The clone is `git clone` of this repository when its work tree is clean (CI); with local
 * uncommitted changes it is the work tree's tracked and unignored files, which is what a commit
 * would give the new user. Shared caches come from the environment (DENO_DIR, the npm cache), so
 * no registry download is repeated.
 */
import assert from "node:assert/strict";
import { REPO_ROOT } from "./permissions.ts";

const decoder = new TextDecoder();

async function git(args: string[], cwd = REPO_ROOT): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
  return decoder.decode(out.stdout);
}

/** A checkout a new user would get; returns how it was made. */
async function freshCheckout(dest: string): Promise<string> {
  const dirty = (await git(["status", "--porcelain"])).trim() !== "";
  if (!dirty) {
    await git(["clone", "--quiet", REPO_ROOT, dest], "/");
    return "git clone";
  }
  await git(["clone", "--quiet", REPO_ROOT, dest], "/");
  const files = (await git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"]))
    .split("\0").filter(Boolean);
  for (const file of files) {
    let data: Uint8Array;
    let mode: number;
    try {
      data = await Deno.readFile(`${REPO_ROOT}/${file}`);
      mode = (await Deno.stat(`${REPO_ROOT}/${file}`)).mode ?? 0o644;
    } catch {
      // deleted in the work tree (or while copying): the new user does not get it either
      await Deno.remove(`${dest}/${file}`).catch(() => {});
      continue;
    }
    await Deno.mkdir(`${dest}/${file}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeFile(`${dest}/${file}`, data, { mode });
  }
  return "git clone + the work tree's uncommitted files";
}

/** The two commands of the README's fresh-machine block. */
async function readmeCommands(dir: string): Promise<string[]> {
  const readme = await Deno.readTextFile(`${dir}/README.md`);
  const section = readme.split(/^## /m).find((s) => s.startsWith("Fresh machine"));
  assert.ok(section, "README has a Fresh machine section");
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
}

function words(command: string): string[] {
  return command.split(/\s+/);
}

const hasNpx = await new Deno.Command("npx", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

Deno.test({
  name: hasNpx
    ? "fresh clone: the README's two commands work for a new user (start → URL → SIGTERM; test on a subset)"
    : "fresh clone: the README's two commands work for a new user (skipped: npx is not installed)",
  ignore: !hasNpx,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "hero_newuser_" });
    try {
      const clone = `${root}/hero_orchestrator`;
      const how = await freshCheckout(clone);
      const commands = await readmeCommands(clone);
      assert.equal(commands.length, 2, `exactly two commands: ${commands.join(" | ")}`);
      const [start, test] = commands as [string, string];
      assert.match(start, /task start$/);
      assert.match(test, /task test$/);
      const home = `${root}/home`;
      await Deno.mkdir(home);
      const realHome = Deno.env.get("HOME") ?? "/root";
      const env: Record<string, string> = {
        HOME: home,
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        DENO_DIR: Deno.env.get("DENO_DIR") || `${realHome}/.cache/deno`,
        npm_config_cache: Deno.env.get("npm_config_cache") || `${realHome}/.npm`,
        // Only the port: 8470 may be taken on a shared machine.
        HERO_ORCHESTRATOR_ADMIN_LISTEN: "127.0.0.1:0",
        // The readiness check must not reach the internet from a test.
        HERO_ORCHESTRATOR_CHECK_UPSTREAM: "0",
        // CI runs as root: the server refuses root unless this disposable sandbox says so (the
        // refusal and its fixes are tested in server/main_test.ts).
        ...(Deno.uid() === 0 ? { IS_SANDBOX: "1" } : {}),
        ...(Deno.env.get("HERO_ORCHESTRATOR_REAL_CLAUDE")
          ? { HERO_ORCHESTRATOR_REAL_CLAUDE: Deno.env.get("HERO_ORCHESTRATOR_REAL_CLAUDE")! }
          : {}),
      };

      // 1. start: wait for the URL, open it, SIGTERM.
      const [cmd, ...args] = words(start);
      const child = new Deno.Command(cmd!, {
        args,
        cwd: clone,
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // Its own process group, like a terminal job: the signal goes to the whole group (npx
        // itself does not forward SIGTERM to its child).
        detached: true,
      }).spawn();
      const stderr = new Response(child.stderr).text();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      let url: string | undefined;
      const killGroup = (signal: Deno.Signal) => {
        try {
          Deno.kill(-child.pid, signal);
        } catch {
          // the group is gone
        }
      };
      const deadline = setTimeout(() => killGroup("SIGKILL"), 240_000);
      try {
        while (!url) {
          const { value, done } = await reader.read();
          if (done) break;
          out += value;
          url = /Open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out)?.[1];
        }
        // (stderr is awaited only on failure: it resolves when the processes exit)
        if (!url) assert.fail(`no URL printed (${how}):\n${out}\n${await stderr}`);
        const first = await fetch(url, { redirect: "manual" });
        await first.body?.cancel();
        const cookie = first.headers.get("set-cookie")?.split(";")[0];
        assert.ok(first.status < 400 && cookie, `token exchange: HTTP ${first.status}`);
        const page = await fetch(new URL("/", url), { headers: { cookie } });
        assert.equal(page.status, 200);
        assert.match(await page.text(), /<html/i);
      } finally {
        reader.releaseLock();
        killGroup("SIGTERM");
        await child.status;
        await child.stdout.cancel().catch(() => {});
        const err = await stderr;
        clearTimeout(deadline);
        // npx dies of the signal itself; what counts is that both services stopped cleanly.
        assert.match(err, /hero_orchestrator: stopping/, err);
        assert.match(err, /"service":"hero_orchestrator_admin","message":"stopped"/, err);
        assert.match(err, /\{"ts":"[^"]+","level":"info","message":"stopped"\}/, err);
      }
      const sockets = `${home}/hero/var/sockets/hero_orchestrator`;
      assert.deepEqual([...Deno.readDirSync(sockets)], [], "sockets removed at exit");

      // 2. test: the same command on a tiny subset.
      const [tcmd, ...targs] = words(test);
      const t = await new Deno.Command(tcmd!, {
        args: [...targs, "cli/fail_test.ts"],
        cwd: clone,
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(240_000),
      }).output();
      const tout = decoder.decode(t.stdout);
      assert.equal(t.code, 0, tout + decoder.decode(t.stderr));
      assert.match(tout.trimEnd().split("\n").at(-1)!, /^[1-9]\d* passed, 0 failed/);
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
