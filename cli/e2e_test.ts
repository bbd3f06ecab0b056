/**
 * The operator CLI end to end, every process under its production permission set: the server
 * (`spawnDaemon`, `-P=server` + computed flags), the admin on admin.sock (`-P=admin` + flags) and
 * the CLI itself (`-P=cli` + flags), exactly as `deno task server|admin|cli` run them. The fake
 * claude plays the agents.
 */
import assert from "node:assert/strict";
import { formatDuration } from "@hero/sdk";
import { fakePrompt, startMockAnthropic } from "@hero/core/testing";
import { DENO_DIR, spawnDaemon, tempEnv } from "@hero/server/testing/daemon";
import { REPO_ROOT, runArgs } from "@hero/tools/permissions";

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
  // The server has a credential; the claude checks are the server's view of it.
  await using t = await tempEnv({ CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-server" });
  await using _server = await spawnDaemon(t.env);
  await using _admin = await spawnAdmin(t.env, `${t.env.PATH_SOCKET}/hero_orchestrator/admin.sock`);
  const env = operatorEnv(t.env);
  const text = await cli(env, ["doctor"]);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, /^✓ claude +server: claude 2\.1\.328 \(\S+claude\)$/m);
  assert.match(text.stdout, /^✓ auth +server: CLAUDE_CODE_OAUTH_TOKEN is set \[oauth_token\]$/m);
  assert.match(text.stdout, /^✓ upstream +server: not checked/m);
  assert.match(text.stdout, /^✓ rpc_socket .*answers \/health: HTTP 200 ok$/m);
  assert.match(text.stdout, /^✓ admin_socket .*answers \/health/m);
  assert.match(text.stdout, /^✓ lock +held by the running server \(pid \d+\)$/m);
  assert.ok(!text.stdout.includes("sk-ant-oat01-server"), "the token is never shown");
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
      "user",
      "upstream",
      "sqlite",
      "db",
      "wal",
      "socket_dir",
      "rpc_socket",
      "admin_socket",
      "disk",
      "lock",
      "search_index",
      "sandbox",
      "proxy_scope",
    ],
  );
  assert.ok(report.checks.every((c: { status: string }) => c.status !== "fail"));
});

Deno.test("cli e2e: doctor reports the running server's view, not this shell's; no admin.sock is fine", async () => {
  // As after `deno task start`: the server runs (without a credential), the admin is on TCP.
  await using t = await tempEnv();
  await using _server = await spawnDaemon(t.env);
  // This shell has a credential the server does not: the server's lack is what agents meet.
  const env = { ...operatorEnv(t.env), CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-shell" };
  const text = await cli(env, ["doctor"]);
  assert.equal(text.code, 1, text.stdout + text.stderr);
  assert.match(
    text.stdout,
    /^✗ auth +server: no claude login.* → fix: As the server's user, in a terminal: `npx -y deno@2\.9\.6 task cli login`/m,
  );
  assert.match(text.stdout, /^✓ claude +server: claude 2\.1\.328/m);
  assert.match(
    text.stdout,
    /^✓ admin_socket .*is absent: no admin on its socket \(`npx -y deno@2\.9\.6 task start` serves it on 127\.0\.0\.1/m,
  );
  assert.doesNotMatch(text.stdout, /^! admin_socket/m);
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
  // Active time: the running turn's, not the wall time; shown as a duration, not ticking.
  assert.equal(shown.active_since, null);
  assert.ok(shown.active_ms > 0 && shown.active_ms <= shown.updated_at - shown.created_at);
  const details = await cli(env, ["show", id]);
  assert.match(details.stdout, new RegExp(`^active +${formatDuration(shown.active_ms)}\n`, "m"));
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

Deno.test("cli e2e: a failure's code and fix in run and show; agents: costs as the admin shows them, no shadows", async () => {
  // No credential for the server, and naming shadows on (the fake answers them).
  await using t = await tempEnv({ HERO_ORCHESTRATOR_SHADOWS: "naming" });
  await using _server = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const refused = fakePrompt([{ init: true }, { apiError: 401 }]);
  const run = await cli(env, ["run", "--cwd", t.work, "--wait", refused]);
  assert.equal(run.code, 1, run.stderr);
  const id = /agent (\S+) failed: not_logged_in No credential/.exec(run.stderr)?.[1];
  assert.ok(id, run.stderr);
  assert.match(
    run.stderr,
    /\nfix: Give the server a credential: .*`npx -y deno@2\.9\.6 task cli login`/,
  );
  const shown = await cli(env, ["show", id]);
  assert.match(shown.stdout, /^error +not_logged_in: No credential/m);
  assert.match(shown.stdout, /^fix +Give the server a credential/m);

  const cheap = await cli(env, [
    "run",
    "--cwd",
    t.work,
    "--wait",
    fakePrompt([{ init: true }, { result: { result: "ok", total_cost_usd: 0.0044 } }]),
  ]);
  assert.equal(cheap.code, 0, cheap.stderr);
  const cheapId = /agent (\S+) awaiting_review/.exec(cheap.stderr)?.[1];
  const shadows = JSON.parse((await cli(env, ["agents", "--json", "--kind", "shadow"])).stdout);
  assert.ok(shadows.agents.length >= 1, "the naming shadows exist");
  const table = (await cli(env, ["agents"])).stdout;
  assert.match(table, new RegExp(`^${cheapId} .* \\$0\\.0044 `, "m"));
  const ids = table.trim().split("\n").slice(1).map((l) => l.split(" ")[0]);
  assert.deepEqual(ids.sort(), [id, cheapId].sort(), "shadow rows are left out");
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

Deno.test("cli e2e: login --api-key stores a key the proxy injects; never on argv, in logs or in the DB", async () => {
  await using mock = await startMockAnthropic();
  await using t = await tempEnv({
    HERO_ORCHESTRATOR_PROXY_SCOPE: "all",
    HERO_ORCHESTRATOR_UPSTREAM_URL: mock.url,
  });
  const key = "sk-ant-api03-stored-by-login-e2e-key-77";
  await using daemon = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const file = `${t.env.PATH_VAR}/hero_orchestrator/api_key`;

  const onArgv = await cli(env, ["login", "--api-key", key]);
  assert.equal(onArgv.code, 2);
  assert.match(onArgv.stderr, /a key on the command line is visible to every user/);
  assert.ok(!onArgv.stderr.includes(key) && !onArgv.stdout.includes(key), "the key was echoed");
  const inline = await cli(env, ["login", `--api-key=${key}`]);
  assert.equal(inline.code, 2);
  assert.ok(!inline.stderr.includes(key));
  assert.throws(() => Deno.statSync(file), Deno.errors.NotFound);

  const stored = await cli(env, ["login", "--api-key"], `${key}\n`);
  assert.equal(stored.code, 0, stored.stderr);
  assert.match(stored.stdout, /API key stored in .*api_key \(mode 0600\)/);
  assert.match(stored.stdout, /agents use an API key from .*api_key \(injected by the quota proxy/);
  assert.equal(Deno.statSync(file).mode! & 0o777, 0o600);
  assert.equal(Deno.readTextFileSync(file), `${key}\n`);

  // An agent calls the API through the proxy with its own token: the upstream sees the key.
  const record = `${t.work}/record.json`; // the sandbox lets agents write only in their cwd
  const call = [
    `printf 'header = "authorization: Bearer %s"\\n' "$ANTHROPIC_AUTH_TOKEN"`,
    `| curl -sS -o /dev/null -K - --unix-socket "$ANTHROPIC_UNIX_SOCKET"`,
    `-H 'content-type: application/json' -H 'anthropic-version: 2023-06-01'`,
    `--data '{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'`,
    `"$ANTHROPIC_BASE_URL/v1/messages"`,
  ].join(" ");
  const run = await cli(env, [
    "run",
    "--cwd",
    t.work,
    "--wait",
    fakePrompt({ auto: true, steps: [{ record }, { spawnWait: call }, { text: "called" }] }),
  ]);
  assert.equal(run.code, 0, run.stderr);
  const sent = mock.messageRequests();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.headers["x-api-key"], key);
  const child = JSON.parse(Deno.readTextFileSync(record)) as { env: Record<string, string> };
  assert.ok(!JSON.stringify(child.env).includes(key), "the agent saw the key");

  // Stored mode 0644: refused with the fix, and nothing is injected.
  Deno.chmodSync(file, 0o644);
  const shown = await cli(env, ["login", "--api-key"], `${key}\n`); // storing again fixes it
  assert.equal(shown.code, 0);
  assert.equal(Deno.statSync(file).mode! & 0o777, 0o600);

  const removed = await cli(env, ["login", "--remove-api-key"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /the stored API key is removed/);
  assert.match(removed.stdout, /agents have no credential/);
  assert.throws(() => Deno.statSync(file), Deno.errors.NotFound);

  const status = await daemon.stop();
  assert.equal(status.code, 0);
  assert.ok(!daemon.stderr().includes(key), "the key is in the server's log");
  const db = await Deno.readFile(`${t.env.PATH_VAR}/hero_orchestrator/db.sqlite`);
  assert.ok(!new TextDecoder().decode(db).includes(key), "the key is in the database");
});

Deno.test("cli e2e: fork --at SEQ starts a new agent from a message; a bad seq is a usage-level error", async () => {
  await using t = await tempEnv();
  await using daemon = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const run = await cli(env, ["run", "--cwd", t.work, "--wait", "fork me"]);
  assert.equal(run.code, 0, run.stderr);
  const listed = JSON.parse((await cli(env, ["agents", "--all", "--json"])).stdout);
  const id: string = listed.agents[0].id;
  const lines = (await cli(env, ["logs", id, "--json"])).stdout.trim().split("\n")
    .map((l) => JSON.parse(l) as { seq: number; type: string });
  const at = lines.find((l) => l.type === "assistant")!.seq;
  const forked = await cli(env, ["fork", id, "--at", String(at), "--json", "go", "on"]);
  assert.equal(forked.code, 0, forked.stderr);
  const agent = JSON.parse(forked.stdout);
  assert.notEqual(agent.id, id);
  assert.equal(agent.prompt, "go on");
  assert.equal(agent.name, `Fork of ${listed.agents[0].name} at #${at}`);
  const bad = await cli(env, ["fork", id, "--at", "1", "x"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /InvalidParamsError|not a message/);
  const usage = await cli(env, ["fork", id, "x"]);
  assert.equal(usage.code, 2);
  assert.equal((await daemon.stop()).code, 0);
});

Deno.test("cli e2e: import adopts ~/.claude sessions under the server's set, idempotently, searchable", async () => {
  await using t = await tempEnv();
  const folder = `${t.dir}/.claude/projects/-work-legacy`;
  await Deno.mkdir(folder, { recursive: true });
  const line = (type: string, content: unknown) =>
    JSON.stringify({
      type,
      sessionId: "legacy-session",
      cwd: t.work,
      timestamp: "2026-01-02T03:04:05.000Z",
      message: {
        role: type,
        content,
        ...(type === "assistant" ? { model: "claude-opus-4-7" } : {}),
      },
    });
  await Deno.writeTextFile(
    `${folder}/legacy-session.jsonl`,
    `${line("user", "where is the aardvark")}\nbroken{\n${
      line("assistant", [{ type: "text", text: "in the zoo" }])
    }\n`,
  );
  await using daemon = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const first = await cli(env, ["import", "--json"]);
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout);
  assert.deepEqual(
    [report.files, report.created, report.lines, report.malformed, report.errors],
    [1, 1, 2, 1, []],
  );
  const again = JSON.parse((await cli(env, ["import", "--json"])).stdout);
  assert.deepEqual([again.created, again.lines], [0, 0]);
  const listed = JSON.parse((await cli(env, ["agents", "--all", "--json"])).stdout);
  const agent = listed.agents.find((a: { id: string }) => a.id === report.agents[0]);
  assert.deepEqual(
    [agent.kind, agent.status, agent.cwd, agent.model, agent.session_id],
    ["imported", "completed", t.work, "claude-opus-4-7", "legacy-session"],
  );
  const found = await waitForSearch(env, "aardvark", agent.id);
  assert.ok(found, "the imported prompt is searchable");
  const outside = await cli(env, ["import", `${t.dir}/.ssh`]);
  assert.equal(outside.code, 1);
  assert.match(outside.stderr, /InvalidParamsError/);
  assert.equal((await daemon.stop()).code, 0);
});

Deno.test("cli e2e: import --watch picks up lines a live session appends", async () => {
  await using t = await tempEnv();
  const folder = `${t.dir}/.claude/projects/-work-live`;
  await Deno.mkdir(folder, { recursive: true });
  const file = `${folder}/live-session.jsonl`;
  const line = (text: string) =>
    JSON.stringify({
      type: "user",
      sessionId: "live-session",
      cwd: t.work,
      message: { role: "user", content: text },
    }) + "\n";
  await Deno.writeTextFile(file, line("one"));
  await using _daemon = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...runArgs("cli", env), "import", "--watch", "--interval", "1", "--json"],
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reports: { lines: number; created: number }[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  async function nextReport() {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const report = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        reports.push(report);
        return report;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("import --watch ended");
      buffered += value;
    }
  }
  try {
    assert.deepEqual([(await nextReport()).created, reports[0]!.lines], [1, 1]);
    await Deno.writeTextFile(file, line("two") + line("three"), { append: true });
    let added = 0;
    while (added < 2) added += (await nextReport()).lines;
    assert.equal(added, 2);
  } finally {
    child.kill("SIGTERM");
    await reader.cancel().catch(() => {});
    await child.status;
  }
});

async function waitForSearch(env: Record<string, string>, q: string, id: string) {
  for (let i = 0; i < 100; i++) {
    const out = await cli(env, ["search", q, "--json"]);
    if (out.code === 0 && out.stdout.includes(id)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

Deno.test("cli e2e: export writes the stored lines byte for byte, or Markdown; the admin relays both", async () => {
  await using t = await tempEnv();
  await using daemon = await spawnDaemon(t.env);
  await using _admin = await spawnAdmin(t.env, `${t.env.PATH_SOCKET}/hero_orchestrator/admin.sock`);
  const env = operatorEnv(t.env);
  const invalid = btoa(String.fromCharCode(0x7b, 0xff, 0xfe, 0x0a));
  const run = await cli(env, [
    "run",
    "--cwd",
    t.work,
    "--wait",
    fakePrompt({
      auto: true,
      steps: [
        { text: "exported text" },
        { toolUse: { name: "Bash", input: { command: "ls -la" } } },
        { raw: invalid },
      ],
    }),
  ]);
  assert.equal(run.code, 0, run.stderr);
  const listed = JSON.parse((await cli(env, ["agents", "--all", "--json"])).stdout);
  const id: string = listed.agents[0].id;

  const child = new Deno.Command(Deno.execPath(), {
    args: [...runArgs("cli", env), "export", id],
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  });
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const md = await cli(env, ["export", id, "--markdown"]);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /## You\n\n> FAKE:/);
  assert.match(md.stdout, /exported text/);
  assert.match(md.stdout, /<summary>Tool: Bash: ls -la<\/summary>/);
  assert.match(md.stdout, /## Summary\n\n- Turns: 1/);
  const missing = await cli(env, ["export", "no-such-agent"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NotFoundError/);

  // Through the admin's socket, as the agent page's download links fetch it.
  const admin = Deno.createHttpClient({
    proxy: { transport: "unix", path: `${t.env.PATH_SOCKET}/hero_orchestrator/admin.sock` },
  });
  let relayed: Uint8Array;
  try {
    const res = await fetch(`http://localhost/export/${id}.jsonl`, { client: admin });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    assert.match(res.headers.get("content-disposition")!, /^attachment; filename=".+\.jsonl"$/);
    relayed = new Uint8Array(await res.arrayBuffer());
    const gone = await fetch(`http://localhost/export/nope.md`, { client: admin });
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
  } finally {
    admin.close();
  }

  // The oracle: the rows as SQLite holds them (read after the daemon stopped), not the exporter.
  assert.equal((await daemon.stop()).code, 0);
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(`${t.env.PATH_VAR}/hero_orchestrator/db.sqlite`, { readOnly: true });
  const rows = db.prepare(
    `SELECT m.raw, m.eof_no_newline FROM messages m JOIN agents a ON a.agent_key = m.agent_key
     WHERE a.id = ? ORDER BY m.seq`,
  ).all(id) as Array<{ raw: Uint8Array; eof_no_newline: number }>;
  db.close();
  const expected = new Uint8Array(
    rows.flatMap((r) => [...r.raw, ...(r.eof_no_newline ? [] : [0x0a])]),
  );
  assert.ok(rows.some((r) => r.raw.includes(0xff)), "the invalid UTF-8 line is stored");
  assert.deepEqual(new Uint8Array(out.stdout), expected);
  assert.deepEqual(relayed, expected);
});

Deno.test("cli e2e: pause keeps the session, budget shows and sets caps, resume continues, bad calls fail", async () => {
  await using t = await tempEnv();
  await using _server = await spawnDaemon({
    ...t.env,
    HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT: "carry on",
  });
  const env = operatorEnv(t.env);
  const hang = fakePrompt([{ init: true }, { text: "waiting" }, { sleep: 60_000 }, { result: {} }]);
  const id = (await cli(env, ["run", "--cwd", t.work, hang])).stdout.trim();
  const paused = await cli(env, ["pause", id]);
  assert.equal(paused.code, 0, paused.stderr);
  assert.equal(paused.stdout, `${id} paused (manual)\n`);

  const bad = await cli(env, ["budget", id, "--cost", "-1"]);
  assert.equal(bad.code, 2, bad.stderr);
  const set = await cli(env, ["budget", id, "--cost", "2.5", "--turns", "40"]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /paused \(manual\): cost \$0\.0000 of \$2\.5, 0 of 40 turns\n$/);
  const shown = JSON.parse((await cli(env, ["budget", id, "--json"])).stdout);
  assert.deepEqual([shown.max_cost_usd, shown.max_turns], [2.5, 40]);

  const resumed = await cli(env, ["resume", id]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`^${id} (queued|running)\\n$`));
  const again = await cli(env, ["resume", id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: InvalidStateError: Cannot resume agent/);
  // The continuation resumed the session: its prompt is in the transcript.
  const logs = await cli(env, ["logs", id, "--follow"]);
  assert.match(logs.stdout, /> carry on/);

  // run takes a priority and budgets; a bad priority is a usage error and stores nothing.
  const urgent = await cli(env, ["run", "--cwd", t.work, "--priority", "urgent", "hi"]);
  assert.equal(urgent.code, 2, urgent.stderr);
  assert.match(urgent.stderr, /--priority "urgent" is not one of high, normal, low/);
  const capped = await cli(env, [
    "run",
    "--cwd",
    t.work,
    "--priority",
    "high",
    "--max-cost",
    "0.5",
    "--max-turns",
    "3",
    "--json",
    "hi",
  ]);
  assert.equal(capped.code, 0, capped.stderr);
  const row = JSON.parse(capped.stdout);
  assert.deepEqual([row.priority, row.max_cost_usd, row.max_turns], ["high", 0.5, 3]);
  const listed = JSON.parse((await cli(env, ["agents", "--json"])).stdout);
  assert.equal(listed.agents.length, 2, "the refused run stored nothing");
});

Deno.test("cli e2e: interrupt ends a running turn; send continues the live session", async () => {
  await using t = await tempEnv({ HERO_ORCHESTRATOR_SESSION_IDLE_MS: "60000" });
  await using _server = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const hang = fakePrompt({ auto: true, steps: [{ text: "so far" }, { hang: true }] });
  const id = (await cli(env, ["run", "--cwd", t.work, hang])).stdout.trim();
  // Interrupt needs the turn to be running: retry until the process took it.
  let interrupted: Run | undefined;
  for (let i = 0; i < 100; i++) {
    interrupted = await cli(env, ["interrupt", id]);
    if (interrupted.code === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(interrupted!.code, 0, interrupted!.stderr);
  assert.equal(interrupted!.stdout, `${id} awaiting_review\n`);
  const sent = await cli(env, ["send", id, "-"], "next words\n");
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stdout, new RegExp(`^${id} started \\(running\\)\\n$`));
  const again = await cli(env, ["send", id, "more", "--json"]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(["started", "queued"].includes(JSON.parse(again.stdout).delivery));
  // A hanging turn runs (or waits behind "more"): a steer goes into the running turn.
  assert.equal((await cli(env, ["send", id, hang])).code, 0);
  const steered = await cli(env, ["send", id, "steer words", "--steer"]);
  assert.equal(steered.code, 0, steered.stderr);
  assert.match(steered.stdout, new RegExp(`^${id} steered \\(running\\)\\n$`));
  const usage = await cli(env, ["send", id]);
  assert.equal(usage.code, 2);
});

Deno.test("cli e2e: approvals lists a permission prompt; deny answers it once; approve allows", async () => {
  await using t = await tempEnv();
  await using _server = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const ask = (file: string) =>
    fakePrompt({
      auto: true,
      steps: [{ ask: { tool: "Write", input: { file_path: `${t.work}/${file}`, content: "x" } } }],
    });
  const id = (await cli(env, ["run", "--cwd", t.work, "--permission-mode", "default", ask("a")]))
    .stdout.trim();
  let listed: Run | undefined;
  for (let i = 0; i < 150; i++) {
    listed = await cli(env, ["approvals"]);
    if (listed.stdout.trim() !== "") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const [approvalId, agentId, tool, what] = listed!.stdout.trim().split(" ");
  assert.deepEqual([agentId, tool, what], [id, "Write", `${t.work}/a`]);
  const denied = await cli(env, ["deny", approvalId!, "--message", "no thanks"]);
  assert.equal(denied.code, 0, denied.stderr);
  assert.equal(denied.stdout, `${approvalId} denied\n`);
  // Exactly once: a second answer is refused.
  const again = await cli(env, ["approve", approvalId!]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already denied/);
  const all = JSON.parse((await cli(env, ["approvals", "--all", "--json"])).stdout);
  assert.deepEqual([all[0].state, all[0].answered_by, all[0].message], [
    "denied",
    "cli",
    "no thanks",
  ]);

  const b = (await cli(env, ["run", "--cwd", t.work, "--permission-mode", "acceptEdits", ask("b")]))
    .stdout.trim();
  let second: Run | undefined;
  for (let i = 0; i < 150; i++) {
    second = await cli(env, ["approvals", "--agent", b, "--json"]);
    if (JSON.parse(second.stdout).length > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const approved = await cli(env, ["approve", JSON.parse(second!.stdout)[0].id, "--session"]);
  assert.equal(approved.code, 0, approved.stderr);
  for (let i = 0; i < 150; i++) {
    try {
      await Deno.stat(`${t.work}/b`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.equal(await Deno.readTextFile(`${t.work}/b`), "x");
  const bad = await cli(env, ["run", "--cwd", t.work, "--permission-mode", "yolo", "hi"]);
  assert.equal(bad.code, 2);
});

Deno.test("cli e2e: logs --follow prints text as the model writes it, once", async () => {
  await using t = await tempEnv();
  await using _server = await spawnDaemon(t.env);
  const env = operatorEnv(t.env);
  const gate = (path: string) => ({
    spawnWait: `while [ ! -e '${path}' ]; do sleep 0.05; done`,
  });
  const delta = (text: string) => ({
    line: {
      type: "stream_event",
      event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
      session_id: "{{session_id}}",
      parent_tool_use_id: null,
      api_message_id: "msg_cli_1",
    },
  });
  const assistant = {
    line: {
      type: "assistant",
      message: {
        id: "msg_cli_1",
        type: "message",
        role: "assistant",
        model: "m",
        content: [{ type: "text", text: "Hello, world" }],
      },
      session_id: "{{session_id}}",
      parent_tool_use_id: null,
    },
  };
  const open = `${t.work}/open`;
  const more = `${t.work}/more`;
  const id = (await cli(env, [
    "run",
    "--cwd",
    t.work,
    fakePrompt({
      auto: true,
      steps: [gate(open), delta("Hello"), delta(", wor"), gate(more), delta("ld"), assistant],
      // The prompt is printed too: it must not spell the answer out.
    }).replace("Hello, world", "Hello, w\\u006frld"),
  ])).stdout.trim();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...runArgs("cli", env), "logs", "--follow", id],
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const until = async (text: string) => {
    while (!out.includes(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stdout ended before "${text}": ${out}`);
      out += value;
    }
  };
  // Following (the init line is printed), then the model starts writing.
  await until("init");
  await new Promise((r) => setTimeout(r, 500));
  await Deno.writeTextFile(open, "");
  await until("Hello, wor");
  assert.ok(!out.includes("Hello, world"), "shown before the line is stored");
  await Deno.writeTextFile(more, "");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const status = await child.status;
  assert.equal(status.code, 0, await new Response(child.stderr).text());
  assert.equal(out.split("Hello, world").length - 1, 1, `the text once: ${out}`);
});
