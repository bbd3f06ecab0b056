/**
 * `deno task start` refuses, naming the pid, when another daemon already answers on the sockets;
 * it runs under its own narrow flags (`-P=launch` + `tools/permissions.ts start`).
 */
import assert from "node:assert/strict";
import { spawnDaemon, tempEnv } from "@hero/server/testing/daemon";
import { launcherFlags, REPO_ROOT } from "./permissions.ts";

Deno.test("start: refuses when another daemon owns the sockets, naming its pid", async () => {
  await using t = await tempEnv();
  await using daemon = await spawnDaemon(t.env);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      `--config=${REPO_ROOT}/deno.json`,
      "-P=launch",
      ...launcherFlags("start", t.env),
      `${REPO_ROOT}/tools/start.ts`,
      "--listen",
      "127.0.0.1:0",
    ],
    env: t.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(
    stderr,
    new RegExp(
      `^error: Cannot start: another hero_orchestrator_server already owns \\S+rpc\\.sock \\(pid ${daemon.pid}\\)`,
    ),
  );
  assert.equal(new TextDecoder().decode(out.stdout), "", "no URL printed");
});

Deno.test("start: prints the readiness with its fixes before the URL", async () => {
  await using t = await tempEnv();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      `--config=${REPO_ROOT}/deno.json`,
      "-P=launch",
      ...launcherFlags("start", t.env),
      `${REPO_ROOT}/tools/start.ts`,
      "--listen",
      "127.0.0.1:0",
    ],
    env: t.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = setTimeout(() => child.kill("SIGKILL"), 120_000);
  try {
    while (!stdout.includes("hero_orchestrator is running")) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
    }
    assert.match(stdout, /Readiness: agents cannot run yet/, stdout);
    assert.match(stdout, /✗ credential +no claude login/);
    assert.match(
      stdout,
      /fix: As the server's user, in a terminal: `npx -y deno@2\.9\.6 task cli login`/,
    );
    assert.match(stdout, /✓ claude +claude 2\.1\.328/);
    assert.ok(
      stdout.indexOf("Readiness") < stdout.indexOf("hero_orchestrator is running"),
      "the readiness comes before the URL",
    );
  } finally {
    child.kill("SIGINT");
    // Keep reading: the launcher forwards its children's output until they have stopped.
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    const status = await child.status;
    const log = await stderr.catch(() => "");
    clearTimeout(deadline);
    assert.equal(status.signal, null, `killed at the deadline:\n${log}`);
  }
});
