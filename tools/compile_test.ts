/**
 * `deno task compile` end to end: the three binaries build with their permission sets, answer
 * `--info --json`, the server starts and runs one agent through the real claude CLI (the fake
 * when the pinned CLI is missing), and the permission probe compiled with each set is denied
 * exactly what it is under `deno run`.
 *
 * Compiling needs the `denort` runtime (downloaded from dl.deno.land on first use, or
 * `DENORT_BIN`). Where neither works the test is reported as ignored with the reason in its name:
 * visibly, never silently.
 */
import assert from "node:assert/strict";
import {
  FAKE_CLAUDE_BIN,
  REAL_CLAUDE_BIN,
  realClaudeAvailable,
  startMockAnthropic,
} from "@hero/core/testing";
import { resolvePaths } from "@hero/core/config";
import { createClient } from "@hero/sdk";
import { unixFetch } from "@hero/server/testing/unix_fetch";
import { BINARIES, type BinaryName, permissionFlags, REPO_ROOT, runFlags } from "./permissions.ts";
import { compileAll } from "./compile.ts";

/** Whether `deno compile` can produce a binary here, and why not. */
async function denortAvailability(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hero_denort_" });
  try {
    await Deno.writeTextFile(`${dir}/hello.ts`, 'console.log("hello");\n');
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "-q", "--no-config", "--output", `${dir}/hello`, `${dir}/hello.ts`],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr);
      const line = err.split("\n").find((l) =>
        /dns error|error sending request|Download/.test(l)
      ) ??
        err.split("\n").find((l) => l.trim()) ?? `exit ${out.code}`;
      const via = Deno.env.get("DENORT_BIN")
        ? `DENORT_BIN=${Deno.env.get("DENORT_BIN")}`
        : "download";
      return {
        ok: false,
        reason: `cannot get denort (${via}): ${line.trim().slice(0, 160)}`,
      };
    }
    const run = await new Deno.Command(`${dir}/hello`, {
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    })
      .output();
    if (new TextDecoder().decode(run.stdout).trim() !== "hello") {
      return {
        ok: false,
        reason: "the compiled probe does not run its program (is DENORT_BIN a denort binary?)",
      };
    }
    return { ok: true };
  } catch (err) {
    return {
      ok: false,
      reason: `cannot compile: ${err instanceof Error ? err.message : String(err)}`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const availability = await denortAvailability();
const NAME = "compile: the three binaries build, answer --info --json, the server runs an agent, " +
  "compiled probes are denied like deno run";

async function output(cmd: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test({
  name: availability.ok ? NAME : `${NAME} (skipped: ${availability.reason})`,
  ignore: !availability.ok,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hero_compile_" });
    const real = await realClaudeAvailable();
    const mock = real ? await startMockAnthropic() : null;
    try {
      await Deno.mkdir(`${dir}/work`);
      const env: Record<string, string> = {
        HOME: dir,
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        IS_SANDBOX: "1",
        PATH_VAR: `${dir}/var`,
        PATH_SOCKET: `${dir}/sockets`,
        HERO_ORCHESTRATOR_CLAUDE_BIN: real ? REAL_CLAUDE_BIN : FAKE_CLAUDE_BIN,
        HERO_ORCHESTRATOR_USAGE_POLL_MS: "0",
        HERO_ORCHESTRATOR_CHECK_UPSTREAM: "0",
        DENO_DIR: Deno.env.get("DENO_DIR") || `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`,
        ...(mock
          ? {
            ANTHROPIC_BASE_URL: mock.url,
            // ANTHROPIC_API_KEY is denied to the server: the token form reaches claude.
            ANTHROPIC_AUTH_TOKEN: "sk-test",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
            CLAUDE_CONFIG_DIR: `${dir}/claude_config`,
          }
          : {}),
      };
      if (mock) await Deno.mkdir(`${dir}/claude_config`);
      const results = await compileAll(env, { outDir: `${dir}/bin` });
      for (const r of results) assert.ok(r.ok, `${r.binary}: ${r.error}`);
      for (const name of Object.keys(BINARIES) as BinaryName[]) {
        const info = await output(`${dir}/bin/${BINARIES[name].name}`, ["--info", "--json"], env);
        assert.equal(info.code, 0, info.stderr);
        assert.equal(JSON.parse(info.stdout).binary, BINARIES[name].name);
      }
      // The server under its compiled-in permissions, one agent end to end.
      const server = new Deno.Command(`${dir}/bin/${BINARIES.server.name}`, {
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(server.stderr).text();
      const paths = resolvePaths(env);
      const transport = unixFetch(paths.rpcSocket);
      try {
        const client = createClient({ fetch: transport.fetch });
        const deadline = Date.now() + 30_000;
        for (;;) {
          try {
            await client.system.health();
            break;
          } catch (err) {
            if (Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        const agent = await client.agent.create({
          prompt: "say hello",
          cwd: `${dir}/work`,
          model: "claude-haiku-4-5",
        });
        const end = Date.now() + 90_000;
        let status = agent.status;
        while (status !== "awaiting_review" && status !== "failed" && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 200));
          status = (await client.agent.get({ id: agent.id })).status;
        }
        assert.equal(
          status,
          "awaiting_review",
          (await client.agent.get({ id: agent.id })).error_message ?? "",
        );
      } finally {
        transport.close();
        server.kill("SIGTERM");
        assert.equal((await server.status).code, 0, await stderr);
      }
      // The probe compiled with each set is denied what it is denied under deno run.
      for (const name of Object.keys(BINARIES) as BinaryName[]) {
        const probeBin = `${dir}/bin/probe_${name}`;
        const flags = permissionFlags(name, env, { compiled: true });
        const c = await output(Deno.execPath(), [
          "compile",
          "-q",
          `--config=${REPO_ROOT}/deno.json`,
          `-P=${name}`,
          ...flags,
          `--output=${probeBin}`,
          `${REPO_ROOT}/tools/testdata/permission_probe.ts`,
        ], env);
        assert.equal(c.code, 0, c.stderr);
        const compiled = JSON.parse((await output(probeBin, [], env)).stdout);
        const interpreted = JSON.parse(
          (await output(Deno.execPath(), [
            ...runFlags(name, env, { compiled: true }),
            `${REPO_ROOT}/tools/testdata/permission_probe.ts`,
          ], env)).stdout,
        );
        assert.deepEqual(compiled, interpreted, `${name}: compiled and deno run probes agree`);
      }
    } finally {
      await mock?.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
