/**
 * Test helpers: a temp environment with the fake claude, the daemon in-process or as a child
 * process, and an SDK client over its Unix socket. Tests only.
 * @module
 */
import { FAKE_CLAUDE_BIN } from "@hero/core/testing";
import { resolvePaths } from "@hero/core/config";
import { type Agent, type Client, createClient } from "@hero/sdk";
import { type Daemon, type DaemonOptions, startDaemon } from "../daemon.ts";
import { unixFetch } from "./unix_fetch.ts";
import { runArgs } from "@hero/tools/permissions";

export const REPO_ROOT = new URL("../../", import.meta.url).pathname;
export const MAIN_TS = new URL("../main.ts", import.meta.url).pathname;

/** Deno's cache of this process: children reuse it (no downloads, nothing written under HOME). */
export const DENO_DIR: string = Deno.env.get("DENO_DIR") ||
  `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;

export interface TempEnv extends AsyncDisposable {
  dir: string;
  /** A working directory agents may use. */
  work: string;
  env: Record<string, string>;
  socketPath: string;
}

/** A temp dir with var/, sockets/ (not created) and work/; env points the daemon at them. */
export async function tempEnv(extra: Record<string, string> = {}): Promise<TempEnv> {
  const dir = await Deno.makeTempDir({ prefix: "hero_srv_" });
  const work = `${dir}/work`;
  await Deno.mkdir(work);
  const env: Record<string, string> = {
    HOME: dir,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR,
    // Tests run as root in CI: claude (and the fake) refuse bypass mode as root without it.
    IS_SANDBOX: "1",
    PATH_VAR: `${dir}/var`,
    PATH_SOCKET: `${dir}/sockets`,
    HERO_ORCHESTRATOR_CLAUDE_BIN: FAKE_CLAUDE_BIN,
    HERO_ORCHESTRATOR_CANCEL_GRACE_MS: "1000",
    HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS: "5",
    // Deterministic agent lists and no network: no shadow runs, no usage poll.
    HERO_ORCHESTRATOR_SHADOWS: "none",
    HERO_ORCHESTRATOR_USAGE_POLL_MS: "0",
    // One prompt per process unless a test is about live sessions (they set their own period).
    HERO_ORCHESTRATOR_SESSION_IDLE_MS: "0",
    // The readiness check does not reach the internet (a loopback mock is still checked).
    HERO_ORCHESTRATOR_CHECK_UPSTREAM: "0",
    ...extra,
  };
  return {
    dir,
    work: await Deno.realPath(work),
    env,
    socketPath: resolvePaths(env).rpcSocket,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

export interface InProcess extends AsyncDisposable {
  daemon: Daemon;
  client: Client;
  fetch: typeof fetch;
}

/** Starts the daemon in this process and an SDK client over its socket. */
export async function startInProcess(
  env: Record<string, string>,
  options: Omit<DaemonOptions, "env"> = {},
): Promise<InProcess> {
  const daemon = await startDaemon({ env, ...options });
  const transport = unixFetch(daemon.socketPath);
  const client = createClient({ fetch: transport.fetch });
  return {
    daemon,
    client,
    fetch: transport.fetch,
    async [Symbol.asyncDispose]() {
      transport.close();
      await daemon.shutdown();
    },
  };
}

export interface ChildDaemon extends AsyncDisposable {
  child: Deno.ChildProcess;
  pid: number;
  stderr: () => string;
  /** Sends SIGTERM and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * The `deno run` arguments of the production daemon for `env`: `-P=server` plus the flags
 * `tools/permissions.ts` computes from the same configuration (what `deno task server` runs).
 */
export function serverRunArgs(env: Record<string, string>): string[] {
  return runArgs("server", env);
}

/**
 * Runs `server/main.ts` in a child process (under `umask` and `ulimit -n` when given) and waits until it answers
 * /health. It runs under the production permission set (`serverRunArgs`) unless
 * `permissions: "all"` asks for `-A`.
 */
export async function spawnDaemon(
  env: Record<string, string>,
  options: {
    umask?: string;
    /** `ulimit -n` (soft and hard RLIMIT_NOFILE) of the daemon. */
    nofile?: number;
    args?: string[];
    waitReady?: boolean;
    permissions?: "production" | "all";
    /** Shell commands run before the daemon is exec'ed (e.g. mounting a small tmpfs). */
    prelude?: string;
    /** A command the shell runs under (e.g. `["unshare", "-m"]`); it must exec, not fork. */
    launcher?: string[];
  } = {},
): Promise<ChildDaemon> {
  const deno = Deno.execPath();
  const runPart = options.permissions === "all" ? ["run", "-A", MAIN_TS] : serverRunArgs(env);
  const quoted = [deno, ...runPart, ...(options.args ?? [])]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const launcher = options.launcher ?? [];
  const child = new Deno.Command(launcher[0] ?? "sh", {
    args: [
      ...launcher.slice(1),
      ...(launcher.length > 0 ? ["sh"] : []),
      "-c",
      `${options.umask ? `umask ${options.umask}; ` : ""}${
        options.nofile ? `ulimit -n ${options.nofile}; ` : ""
      }${options.prelude ? `${options.prelude} && ` : ""}exec ${quoted}`,
    ],
    env,
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  const decoder = new TextDecoder();
  const drainErr = (async () => {
    for await (const chunk of child.stderr) err += decoder.decode(chunk, { stream: true });
  })();
  const drainOut = child.stdout.pipeTo(new WritableStream());
  let status: Deno.CommandStatus | null = null;
  const statusPromise = child.status.then((s) => (status = s));
  const handle: ChildDaemon = {
    child,
    pid: child.pid,
    stderr: () => err,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!status) {
        try {
          child.kill(signal);
        } catch {
          // already exited
        }
      }
      const s = await child.status;
      await Promise.all([drainErr, drainOut.catch(() => {})]);
      return s;
    },
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  if (options.waitReady ?? true) {
    const socket = resolvePaths(env).rpcSocket;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (status) {
        await Promise.all([drainErr, drainOut.catch(() => {})]);
        throw new Error(
          `Cannot start the daemon: it exited with ${JSON.stringify(status)}: ${err}`,
        );
      }
      if (Date.now() > deadline) {
        await handle.stop("SIGKILL");
        throw new Error(`Cannot start the daemon: not ready after 30 s: ${err}`);
      }
      try {
        const t = unixFetch(socket);
        try {
          const r = await t.fetch("http://localhost/health");
          await r.body?.cancel();
          if (r.ok) break;
        } finally {
          t.close();
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  void statusPromise;
  return handle;
}

export interface ProductionDaemon extends AsyncDisposable {
  /** The daemon process (its pid, stderr, stop). */
  process: ChildDaemon;
  client: Client;
  fetch: typeof fetch;
  socketPath: string;
}

/**
 * The daemon as it ships: `server/main.ts` in a child process under the production permission
 * set (`spawnDaemon`), with an SDK client over its socket. Disposal stops it with SIGTERM and
 * fails when it does not exit 0. Use it wherever a test needs no engine internals
 * (`startInProcess` runs the daemon inside the test process, under the test runner's `-A`).
 */
export async function startProduction(
  env: Record<string, string>,
  options: Parameters<typeof spawnDaemon>[1] = {},
): Promise<ProductionDaemon> {
  const process = await spawnDaemon(env, options);
  const socketPath = resolvePaths(env).rpcSocket;
  const transport = unixFetch(socketPath);
  return {
    process,
    client: createClient({ fetch: transport.fetch }),
    fetch: transport.fetch,
    socketPath,
    async [Symbol.asyncDispose]() {
      transport.close();
      const status = await process.stop();
      if (status.code !== 0) {
        throw new Error(`The daemon exited with ${JSON.stringify(status)}: ${process.stderr()}`);
      }
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false (or throws after `ms`). */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every agent the daemon lists, all pages. */
export async function allAgents(client: Client): Promise<Agent[]> {
  const out: Agent[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.agent.list({ limit: 500, ...(cursor ? { cursor } : {}) });
    out.push(...page.agents);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}
