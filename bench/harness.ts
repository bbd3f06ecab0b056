/**
 * Shared pieces of the benchmark scenarios: the daemon as a child process with production
 * settings, an SDK client on its socket, a start barrier for fake agents, `/proc` sampling and
 * machine facts.
 * @module
 */
import { userMessageLine } from "@hero/core/claude";
import { FAKE_CLAUDE_BIN } from "@hero/core/testing";
import { resolvePaths } from "@hero/core/config";
import { type Client, createClient } from "@hero/sdk";
import { type ChildDaemon, spawnDaemon } from "@hero/server/testing/daemon";
import { unixFetch } from "@hero/server/testing/unix_fetch";

export { FAKE_CLAUDE_BIN };

/** The directory holding this deno, first on PATH so the fake claude runs the same deno. */
export function benchPath(): string {
  const dir = Deno.execPath().replace(/\/[^/]*$/, "");
  return `${dir}:${Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin"}`;
}

/**
 * HOME for fake agents: the real one, so the fake's transpiled module comes from the warm Deno
 * cache (a fresh HOME would add a compile to every spawn and to nothing else).
 */
export function benchHome(): string {
  return Deno.env.get("HOME") ?? "/root";
}

/**
 * Starts a claude(-like) binary the way the daemon does, without the daemon: `prompt` goes in as
 * a stream-json user message on stdin, which stays open (close it to let the process end). The
 * same-run baseline of several scenarios.
 */
export async function spawnWithPrompt(options: {
  bin: string;
  args?: string[];
  cwd: string;
  prompt: string;
  env?: Record<string, string>;
}): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(options.bin, {
    args: options.args ?? [],
    cwd: options.cwd,
    env: options.env ?? { PATH: benchPath(), HOME: benchHome(), IS_SANDBOX: "1" },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(userMessageLine(options.prompt)));
  } finally {
    writer.releaseLock();
  }
  return child;
}

/** A running daemon (child process, `server/main.ts`) and a client on its socket. */
export interface BenchDaemon extends AsyncDisposable {
  env: Record<string, string>;
  client: Client;
  /** A fetch over rpc.sock (for raw requests). */
  fetch: typeof fetch;
  socketPath: string;
  dbPath: string;
  /** Pid of the daemon's deno process. */
  pid: number;
  /** A working directory agents may use. */
  work: string;
  child: ChildDaemon;
  /** SIGTERM and wait (agents are stopped with `daemon_shutdown`, the WAL is checkpointed). */
  stop(): Promise<void>;
}

/**
 * Environment of a benchmark daemon: production defaults (group commit ≤ 50 ms / 1,000 rows, 5 s
 * cancel grace) except the state and socket directories, the agent root (`dir`), the fake claude,
 * no proxy or shadows, and the warn log level.
 */
export function daemonEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    HOME: benchHome(),
    PATH: benchPath(),
    IS_SANDBOX: "1",
    PATH_VAR: `${dir}/var`,
    PATH_SOCKET: `${dir}/sockets`,
    HERO_ORCHESTRATOR_CLAUDE_BIN: FAKE_CLAUDE_BIN,
    HERO_ORCHESTRATOR_LOG_LEVEL: "warn",
    // No quota proxy or shadow agents: the benchmark measures the agents it starts.
    HERO_ORCHESTRATOR_PROXY_SCOPE: "off",
    // Scenario files live outside the agents' cwds, which a sandboxed agent could not read; the
    // figures stay comparable with earlier runs (the sandbox adds one bwrap per spawn).
    HERO_ORCHESTRATOR_SANDBOX: "off",
    HERO_ORCHESTRATOR_SHADOWS: "none",
    HERO_ORCHESTRATOR_USAGE_POLL_MS: "0",
    HERO_ORCHESTRATOR_CHECK_UPSTREAM: "0",
    // The daemon runs under the production permission set: agents' cwds must be in a root.
    HERO_ORCHESTRATOR_ALLOWED_ROOTS: dir,
    ...extra,
  };
  // The daemon's own deno keeps using this cache even when a scenario gives it another HOME.
  env.DENO_DIR ??= Deno.env.get("DENO_DIR") || `${benchHome()}/.cache/deno`;
  return env;
}

/**
 * Starts `server/main.ts` in a child process, under the production permission set (as `deno task
 * server` runs it), on a fresh directory under `dir`.
 */
export async function startDaemon(
  dir: string,
  extra: Record<string, string> = {},
): Promise<BenchDaemon> {
  const env = daemonEnv(dir, extra);
  const work = `${dir}/work`;
  await Deno.mkdir(work, { recursive: true });
  const child = await spawnDaemon(env);
  const paths = resolvePaths(env);
  const transport = unixFetch(paths.rpcSocket);
  const client = createClient({ fetch: transport.fetch });
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      transport.close();
      const status = await child.stop("SIGTERM");
      if (!status.success) {
        throw new Error(
          `Cannot stop the daemon cleanly: exit ${status.code}: ${child.stderr().slice(-2000)}`,
        );
      }
    })();
    return stopped;
  };
  return {
    env,
    client,
    fetch: transport.fetch,
    socketPath: paths.rpcSocket,
    dbPath: paths.dbPath,
    pid: child.pid,
    work: await Deno.realPath(work),
    child,
    stop,
    async [Symbol.asyncDispose]() {
      await stop().catch(() => {});
    },
  };
}

/** CPU time and memory of one process from `/proc`. */
export interface ProcSample {
  /** Wall clock, `performance.now()`. */
  at: number;
  /** user + system CPU time, ms. */
  cpuMs: number;
  /** Resident set, KiB. */
  rssKb: number;
  /** Peak resident set, KiB. */
  hwmKb: number;
}

const CLOCK_TICKS_PER_S = 100;

/** Samples process `pid`; null once it is gone. */
export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(rest[11]) + Number(rest[12]);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return {
      at: performance.now(),
      cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_S,
      rssKb: kb("VmRSS"),
      hwmKb: kb("VmHWM"),
    };
  } catch {
    return null;
  }
}

/** CPU share (1.0 = one core) of `pid` between two samples. */
export function cpuShare(a: ProcSample, b: ProcSample): number {
  return (b.cpuMs - a.cpuMs) / Math.max(1, b.at - a.at);
}

/** Whole-machine CPU jiffies (busy, total) from `/proc/stat`. */
export function machineCpu(): { busy: number; total: number } {
  const first = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0]!;
  const v = first.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((s, x) => s + x, 0);
  return { busy: total - idle, total };
}

/** Busy cores between two `machineCpu()` readings (2.0 = both cores of a 2-core machine). */
export function busyCores(
  a: { busy: number; total: number },
  b: { busy: number; total: number },
): number {
  const cores = navigator.hardwareConcurrency || 1;
  return ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * cores;
}

/**
 * A start line for fake agents: the runner holds an exclusive `flock` on a file; each agent's
 * scenario runs `flock -s <file> true` (the `spawnWait` step), which returns once the lock is
 * released. No polling, and an agent reaching it after the release passes at once.
 */
export class Barrier {
  readonly path: string;
  #file: Deno.FsFile;
  #released = false;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /** Creates the file and takes the exclusive lock. */
  static async hold(path: string): Promise<Barrier> {
    const file = await Deno.open(path, { create: true, write: true, read: true });
    await file.lock(true);
    return new Barrier(path, file);
  }

  /** The fake-claude step that waits for the release. */
  get step(): { spawnWait: string } {
    return { spawnWait: `flock -s '${this.path.replaceAll("'", "'\\''")}' true` };
  }

  /** Lets every waiting agent go. Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#file.unlock();
    this.#file.close();
  }
}

/** Polls `check` every `intervalMs` until it returns something other than undefined/false. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(options.intervalMs ?? 25);
  }
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wall-clock epoch milliseconds with sub-millisecond precision (comparable across processes). */
export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The machine the run happened on. */
export async function machineInfo(): Promise<Record<string, unknown>> {
  let model = "unknown";
  try {
    const out = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null" }).output();
    model = /^Model name:\s+(.+)$/m.exec(new TextDecoder().decode(out.stdout))?.[1]?.trim() ??
      model;
  } catch {
    // no lscpu
  }
  let memTotalMb: number | null = null;
  try {
    const kb = /^MemTotal:\s+(\d+)/m.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1];
    memTotalMb = kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    // not Linux
  }
  return {
    nproc: navigator.hardwareConcurrency,
    cpu_model: model,
    mem_total_mb: memTotalMb,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    arch: Deno.build.arch,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    loadavg: Deno.loadavg(),
  };
}

/** Removes a path, ignoring errors. */
export async function removeQuietly(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch(() => {});
}
