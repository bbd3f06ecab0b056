/**
 * The operator CLI end to end, every process under its production permission set: the server
 * (`spawnDaemon`, `-P=server` + computed flags), the admin on admin.sock (`-P=admin` + flags) and
 * the CLI itself (`-P=cli` + flags), exactly as `deno task server|admin|cli` run them. The fake
 * claude plays the agents.
 */
import assert from "node:assert/strict";
import { fakePrompt } from "../core/testing/mod.ts";
import { DENO_DIR, spawnDaemon, tempEnv } from "../server/testing/daemon.ts";
import { REPO_ROOT, runArgs } from "../tools/permissions.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(env: Record<string, string>, args: string[], stdin?: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...runArgs("cli", env), ...args],
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function ensureAdminAssets(): Promise<void> {
  try {
    Deno.statSync(`${REPO_ROOT}/admin/dist/boot.js`);
  } catch {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "build:admin"],
      cwd: REPO_ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  }
}

/** The admin on admin.sock under `-P=admin` + its flags; resolves once the socket exists. */
async function spawnAdmin(env: Record<string, string>, socket: string) {
  await ensureAdminAssets();
  const child = new Deno.Command(Deno.execPath(), {
    args: runArgs("admin", env),
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if (Deno.lstatSync(socket).isSocket) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`admin did not start: ${await stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      const status = await child.status;
      assert.equal(status.code, 0, await stderr);
    },
  };
}

/** The CLI's environment: the service's paths, plus what an operator's shell has. */
function operatorEnv(env: Record<string, string>): Record<string, string> {
  return { ...env, DENO_DIR, NO_COLOR: "1", ANTHROPIC_API_KEY: "sk-operator" };
}

Deno.test("cli e2e: doctor passes (warnings only) against server and admin under their sets", async () => {
  await using t = await tempEnv();
  await using _server = await spawnDaemon(t.env);
  await using _admin = await spawnAdmin(t.env, `${t.env.PATH_SOCKET}/hero_orchestrator/admin.sock`);
  const env = operatorEnv(t.env);
  const text = await cli(env, ["doctor"]);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, /^✓ claude +\S+claude 2\.1\.328 \(the tested version\)$/m);
  assert.match(text.stdout, /^✓ rpc_socket .*answers \/health: HTTP 200 ok$/m);
  assert.match(text.stdout, /^✓ admin_socket .*answers \/health/m);
  assert.match(text.stdout, /^✓ lock +held by the running server \(pid \d+\)$/m);
  assert.match(text.stdout, /^! api_key +ANTHROPIC_API_KEY is set/m);
  // The server's own decision, taken at start under its production permission set.
  assert.match(text.stdout, /^✓ sandbox +agents run in bubblewrap: bwrap works here/m);
  assert.match(text.stdout, /^✓ proxy_scope +every agent talks to the API through the proxy/m);
  const json = await cli(env, ["doctor", "--json"]);
  const report = JSON.parse(json.stdout);
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.checks.map((c: { id: string }) => c.id),
    [
      "claude",
      "auth",
      "api_key",
      "user",
      "sqlite",
      "db",
      "wal",
      "socket_dir",
      "rpc_socket",
      "admin_socket",
      "disk",
      "lock",
      "sandbox",
      "proxy_scope",
    ],
  );
  assert.ok(report.checks.every((c: { status: string }) => c.status !== "fail"));
});

Deno.test("cli e2e: run --wait streams the transcript; agents, show and logs agree", async () => {
  await using t = await tempEnv();
  await using _server = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const prompt = fakePrompt([
    { init: true },
    { text: "working on it" },
    {
      toolUse: { name: "Bash", input: { command: "ls" } },
    },
    { toolResult: "a.txt" },
    { text: "done" },
    { result: { result: "all done" } },
  ]);
  const run = await cli(env, ["run", "--cwd", t.work, "--name", "e2e", "--wait", prompt]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /working on it\n.*→ Bash\(\{"command":"ls"\}\)\n.*← a\.txt\n.*done\n.*result success, \$\d\.\d+: all done/s,
  );
  const id = /agent (\S+) awaiting_review/.exec(run.stderr)?.[1];
  assert.ok(id, run.stderr);

  const list = JSON.parse(
    (await cli(env, ["agents", "--json", "--status", "awaiting_review"])).stdout,
  );
  assert.deepEqual(list.agents.map((a: { id: string }) => a.id), [id]);
  const table = await cli(env, ["agents"]);
  assert.match(
    table.stdout,
    new RegExp(`^ID +STATUS .*\\n${id}  awaiting_review  claude-sonnet-4-6`, "m"),
  );
  const shown = JSON.parse((await cli(env, ["show", id, "--json"])).stdout);
  assert.equal(shown.result, "all done");
  assert.equal(shown.name, "e2e");
  const raw = await cli(env, ["logs", id, "--raw"]);
  const lines = raw.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, shown.last_seq);
  assert.equal(lines.at(-1).type, "result");

  const missing = await cli(env, ["show", "01nonexistent"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: AgentNotFoundError: /);
  const stdinPrompt = await cli(env, ["run", "--cwd", t.work, "-", "--json"], "from stdin\n");
  assert.equal(JSON.parse(stdinPrompt.stdout).prompt, "from stdin");
});

Deno.test("cli e2e: logs --follow streams a running agent live; cancel stops another", async () => {
  await using t = await tempEnv();
  await using _server = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const slow = fakePrompt([{ init: true }, { text: "first" }, { sleep: 1500 }, { text: "second" }, {
    result: { result: "finished" },
  }]);
  const id = (await cli(env, ["run", "--cwd", t.work, slow])).stdout.trim();
  const started = Date.now();
  const follow = await cli(env, ["logs", id, "--follow"]);
  assert.equal(follow.code, 0, follow.stderr);
  assert.match(follow.stdout, /first\n(.*\n)*.*second\n(.*\n)*.*result success.*finished/);
  assert.ok(Date.now() - started >= 1000, "it waited for the live lines");
  // Counted as printed lines: the echoed prompt (`> FAKE:…`) also holds the word.
  assert.equal(follow.stdout.match(/^ *\d+ first$/gm)?.length, 1, "no duplicates");
  assert.match(follow.stdout, /^ *\d+ > FAKE:/m, "the prompt is printed");

  const hang = fakePrompt([{ init: true }, { text: "waiting" }, { sleep: 60_000 }, { result: {} }]);
  const other = (await cli(env, ["run", "--cwd", t.work, hang])).stdout.trim();
  const cancelled = await cli(env, ["cancel", other]);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.equal(cancelled.stdout, `${other} cancelled\n`);
  const again = await cli(env, ["cancel", other]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: InvalidStateError: /);
});

Deno.test("cli e2e: login refuses without a terminal; a stopped server is exit 1 with a hint", async () => {
  await using t = await tempEnv();
  const env = operatorEnv(t.env);
  const login = await cli(env, ["login"]);
  assert.equal(login.code, 1);
  assert.match(login.stderr, /^error: LoginError: Cannot log in: no terminal/);
  const agents = await cli(env, ["agents"]);
  assert.equal(agents.code, 1);
  assert.match(
    agents.stderr,
    /Cannot reach hero_orchestrator_server at .*rpc\.sock: is it running\?/,
  );
  const doctor = await cli(env, ["doctor"]);
  assert.equal(doctor.code, 1);
  assert.match(doctor.stdout, /^✗ rpc_socket .* → fix: start hero_orchestrator_server/m);
  assert.match(doctor.stdout, /^! db .*does not exist yet/m);
});
