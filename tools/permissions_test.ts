/**
 * The permission sets are the boundary (reliability target T40): a probe run with exactly the
 * flags each binary gets (`-P=<set>` + `tools/permissions.ts`) is denied reading ~/.ssh and
 * /proc/self/environ, spawning sh, reading ANTHROPIC_API_KEY, opening a TCP listener, writing
 * outside its directories, LD_PRELOAD and Deno.kill(1), while keeping what the binary needs.
 */
import assert from "node:assert/strict";
import { FAKE_CLAUDE_BIN } from "@hero/core/testing";
import denoJson from "../deno.json" with { type: "json" };
import {
  type BinaryName,
  type FlagOptions,
  permissionFlags,
  REPO_ROOT,
  runFlags,
  SECRET_HOME_PATHS,
} from "./permissions.ts";

const PROBE = `${REPO_ROOT}/tools/testdata/permission_probe.ts`;

async function tempHome(): Promise<{ dir: string; env: Record<string, string> } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "hero_perm_" });
  await Deno.mkdir(`${dir}/.ssh`, { mode: 0o700 });
  await Deno.writeTextFile(`${dir}/.ssh/id_ed25519`, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
  const env: Record<string, string> = {
    HOME: dir,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    PATH_VAR: `${dir}/var`,
    PATH_SOCKET: `${dir}/sockets`,
    HERO_ORCHESTRATOR_CLAUDE_BIN: FAKE_CLAUDE_BIN,
    ANTHROPIC_API_KEY: "sk-probe-secret",
    DENO_DIR: Deno.env.get("DENO_DIR") || `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`,
  };
  return {
    dir,
    env,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function probe(
  binary: BinaryName,
  env: Record<string, string>,
  options: FlagOptions & { probeArgs?: string[] } = {},
): Promise<Record<string, string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...runFlags(binary, env, options), PROBE, ...(options.probeArgs ?? [])],
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(stdout);
}

const MUST_DENY = [
  "read_ssh",
  "read_proc_environ",
  "read_etc_passwd",
  "spawn_sh",
  "env_anthropic_api_key",
  "env_to_object_has_key",
  "tcp_listen",
  "tcp_connect",
  "write_home",
  "write_tmp",
  "kill_pid_1",
  "ld_preload",
];

function assertDenied(results: Record<string, string>, names: string[]): void {
  for (const name of names) assert.equal(results[name], "denied", `${name}: ${results[name]}`);
}

Deno.test("permissions: server set denies secrets, sh, TCP, foreign writes; keeps its state dir", async () => {
  await using h = await tempHome();
  const r = await probe("server", h.env, { probeArgs: ["--allowed-run", "kill"] });
  assertDenied(r, MUST_DENY);
  assert.equal(r.env_home, "allowed");
  assert.equal(r.write_state_dir, "allowed");
  assert.equal(r.read_socket_dir, "allowed");
  // HOME is an agent root (readable), yet ~/.ssh stays denied.
  assert.ok(
    permissionFlags("server", h.env).some((f) =>
      f.startsWith("--deny-read=") && f.includes("/.ssh")
    ),
  );
});

Deno.test("permissions: the server reads claude's projects/ (session import), not ~/.ssh or the rest of ~/.claude", async () => {
  await using h = await tempHome();
  const config = `${h.dir}/.claude`;
  await Deno.mkdir(`${config}/projects/-work-a`, { recursive: true });
  await Deno.writeTextFile(`${config}/projects/-work-a/s.jsonl`, "{}\n");
  await Deno.writeTextFile(`${config}/settings.json`, "{}");
  // HOME is not an agent root here, so only the grants themselves make files readable.
  const env = { ...h.env, HERO_ORCHESTRATOR_ALLOWED_ROOTS: `${h.dir}/work` };
  const r = await probe("server", env, {
    probeArgs: [
      "--read",
      `${config}/projects/-work-a/s.jsonl`,
      "--read",
      `${config}/settings.json`,
      "--read",
      `${h.dir}/.ssh/id_ed25519`,
    ],
  });
  assert.equal(r[`read:${config}/projects/-work-a/s.jsonl`], "allowed");
  assert.equal(r[`read:${config}/settings.json`], "denied");
  assert.equal(r[`read:${h.dir}/.ssh/id_ed25519`], "denied");
  assertDenied(r, MUST_DENY);
});

Deno.test("permissions: admin set denies secrets, sh, TCP, writes outside the socket dir", async () => {
  await using h = await tempHome();
  const r = await probe("admin", h.env);
  assertDenied(r, [...MUST_DENY, "write_state_dir"]);
  assert.equal(r.read_socket_dir, "allowed");
});

Deno.test("permissions: admin --listen grants exactly that loopback address", async () => {
  await using h = await tempHome();
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const r = await probe("admin", h.env, {
    listen: `127.0.0.1:${port}`,
    probeArgs: ["--listen-port", String(port)],
  });
  assert.equal(r.tcp_listen_granted, "allowed");
  assert.equal(r.tcp_listen, "denied", "any other port stays closed");
  assertDenied(r, MUST_DENY);
});

Deno.test("permissions: cli set denies secrets, sh, TCP and every write", async () => {
  await using h = await tempHome();
  const r = await probe("cli", h.env, { probeArgs: ["--allowed-run", FAKE_CLAUDE_BIN] });
  assertDenied(r, [...MUST_DENY, "write_state_dir"]);
  assert.equal(r.read_socket_dir, "allowed");
});

Deno.test("permissions: deno.json sets keep read, write and net closed and deny ANTHROPIC_API_KEY", () => {
  const sets = denoJson.permissions as Record<string, Record<string, unknown>>;
  for (const name of ["server", "admin", "cli"]) {
    const set = sets[name]!;
    assert.equal(set.read, false, `${name}.read`);
    assert.equal(set.write, false, `${name}.write`);
    assert.equal(set.net, false, `${name}.net`);
    assert.equal(set.all, undefined, `${name}.all`);
    const env = set.env as { allow: string[]; deny: string[] };
    assert.ok(env.deny.includes("ANTHROPIC_API_KEY"), `${name} denies ANTHROPIC_API_KEY`);
    assert.ok(!env.allow.includes("*"));
  }
  for (const task of ["start", "server", "admin", "cli", "compile"]) {
    const value = (denoJson.tasks as Record<string, unknown>)[task];
    const command = typeof value === "string" ? value : (value as { command: string }).command;
    assert.doesNotMatch(command, /\s-A\b|--allow-all/, `task ${task} runs without -A`);
  }
});

Deno.test("permissions: flags follow the configuration (paths, claude binary, roots, extra env)", () => {
  const env = {
    HOME: "/home/u",
    PATH_VAR: "/srv/var",
    PATH_SOCKET: "/run/hero",
    HERO_ORCHESTRATOR_CLAUDE_BIN: "/opt/claude/bin/claude",
    HERO_ORCHESTRATOR_ALLOWED_ROOTS: "/work,/src",
    HERO_ORCHESTRATOR_CHILD_ENV: "GH_TOKEN",
    HERO_ORCHESTRATOR_UPSTREAM_URL: "https://gw.example:8443",
  };
  const flags = permissionFlags("server", env);
  const get = (name: string) =>
    flags.find((f) => f.startsWith(`--${name}=`))?.split("=")[1]?.split(",");
  assert.deepEqual(get("allow-write"), [
    "/srv/var/hero_orchestrator",
    "/run/hero/hero_orchestrator",
  ]);
  assert.deepEqual(get("allow-run"), [
    "/opt/claude/bin/claude",
    "kill",
    "ps",
    "git",
    "prlimit",
    "setsid",
    "bwrap",
  ]);
  // Without the sandbox the server never runs bwrap; a custom binary is granted by its path.
  const runOf = (extra: Record<string, string>) =>
    permissionFlags("server", { ...env, ...extra }).find((f) => f.startsWith("--allow-run="));
  assert.equal(
    runOf({ HERO_ORCHESTRATOR_SANDBOX: "off" }),
    "--allow-run=/opt/claude/bin/claude,kill,ps,git,prlimit,setsid",
  );
  assert.ok(runOf({ HERO_ORCHESTRATOR_BWRAP_BIN: "/opt/bw/bwrap" })!.endsWith(",/opt/bw/bwrap"));
  assert.ok(get("allow-read")!.includes("/work") && get("allow-read")!.includes("/src"));
  assert.ok(!get("allow-read")!.includes("/home/u"), "HOME is not a root when roots are given");
  assert.ok(get("allow-read")!.includes("/home/u/.claude/.credentials.json"));
  assert.ok(get("allow-net")!.includes("gw.example:8443"));
  assert.ok(get("allow-net")!.includes("unix:/run/hero/hero_orchestrator/rpc.sock"));
  assert.ok(get("allow-env")!.includes("GH_TOKEN") && get("allow-env")!.includes("HOME"));
  assert.equal(get("deny-read")!.length, SECRET_HOME_PATHS.length);
  const widget = permissionFlags("server", {
    ...env,
    HERO_ORCHESTRATOR_HOME_CWDS: " hero_books=/srv/books/ ",
    HERO_ORCHESTRATOR_HOME_DEFAULT_CWD: "/srv/default",
  });
  const read = widget.find((f) => f.startsWith("--allow-read="))!.split("=")[1]!.split(",");
  assert.ok(read.includes("/srv/books") && read.includes("/srv/default"), read.join(","));
  assert.throws(
    () => permissionFlags("server", { ...env, PATH_VAR: "/a,b" }),
    /a comma is not allowed/,
  );
});

Deno.test("permissions: a key file outside the state dir is readable and writable, nothing more", () => {
  const base = { HOME: "/home/u", PATH_VAR: "/srv/var", PATH_SOCKET: "/run/hero" };
  const get = (flags: string[], name: string) =>
    flags.find((f) => f.startsWith(`--${name}=`))?.split("=")[1]?.split(",") ?? [];
  const inside = permissionFlags("server", base);
  assert.deepEqual(get(inside, "allow-write"), [
    "/srv/var/hero_orchestrator",
    "/run/hero/hero_orchestrator",
  ]);
  const outside = permissionFlags("server", {
    ...base,
    HERO_ORCHESTRATOR_API_KEY_FILE: "/etc/hero/keys/anthropic",
  });
  assert.ok(get(outside, "allow-write").includes("/etc/hero/keys"));
  assert.ok(get(outside, "allow-read").includes("/etc/hero/keys"));
  assert.ok(!get(outside, "allow-read").includes("/etc/hero"));
});
