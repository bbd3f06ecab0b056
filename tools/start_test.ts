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
