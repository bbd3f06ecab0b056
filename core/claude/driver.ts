import { ByteLineStream, type Line } from "./line_stream.ts";
import { StderrTail } from "./stderr_tail.ts";
import { assertStdinLine, userMessageLine } from "./args.ts";
import { bwrapArgs, gitMetadataDirs, type SandboxPolicy } from "./sandbox.ts";

export interface SpawnClaudeOptions {
  bin: string;
  args: string[];
  cwd: string;
  /** The full child environment (the child is spawned with `clearEnv: true`). */
  env: Record<string, string>;
  maxLineBytes: number;
  stderrTailBytes: number;
  /**
   * Run claude inside bubblewrap (see `sandbox.ts`): `cwd` is bound read-write, claude's config
   * dir (`CLAUDE_CONFIG_DIR`, else `~/.claude` and `~/.claude.json`) and the git metadata of a
   * repository enclosing `cwd` too, the proxy socket and the `--mcp-config` file are bound in,
   * everything in `hide` is emptied. Null or absent: no sandbox.
   */
  sandbox?: SandboxPolicy | null;
}

/** claude could not be started; `code` says why (`claude_not_found`, `invalid_cwd`, …). */
export class SpawnError extends Error {
  override name = "SpawnError";
  readonly code: "spawn_failed" | "claude_not_found" | "invalid_cwd";
  constructor(
    message: string,
    options?: ErrorOptions & { code?: "spawn_failed" | "claude_not_found" | "invalid_cwd" },
  ) {
    super(message, options);
    this.code = options?.code ?? "spawn_failed";
  }
}

/**
 * One running claude CLI process in stream-json input mode.
 *
 * The process is its own session and process-group leader (started through `setsid`, else
 * `detached: true`), so its pgid equals its pid and a group signal never reaches the daemon.
 * Stdout is exposed as bounded lines; stderr is drained concurrently into a bounded tail so a
 * flood cannot block the child.
 */
export class ClaudeProcess {
  /** The direct child: claude, or with a sandbox the outer bwrap (its namespace dies with it). */
  readonly pid: number;
  /** Runs inside bwrap: claude is the child of the namespace init, which is the child of `pid`. */
  readonly sandboxed: boolean;
  readonly lines: ReadableStream<Line>;
  readonly stderr: StderrTail;
  readonly status: Promise<Deno.CommandStatus>;
  /** Resolves once stderr reached EOF (the tail is final). */
  readonly stderrDone: Promise<void>;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stdinClosed = false;
  #encoder = new TextEncoder();
  /** Time of the last byte on stdout or stderr (idle watchdog). */
  lastOutputAt = Date.now();

  constructor(
    child: Deno.ChildProcess,
    options: Pick<SpawnClaudeOptions, "maxLineBytes" | "stderrTailBytes"> & { sandboxed?: boolean },
  ) {
    this.#child = child;
    this.pid = child.pid;
    this.sandboxed = options.sandboxed ?? false;
    this.#stdin = child.stdin.getWriter();
    const touch = () => (this.lastOutputAt = Date.now());
    this.lines = pipeChunks(child.stdout, touch)
      .pipeThrough(new ByteLineStream({ maxLineBytes: options.maxLineBytes }));
    this.stderr = new StderrTail(options.stderrTailBytes);
    this.stderrDone = this.stderr.drain(pipeChunks(child.stderr, touch)).catch(() => {});
    this.status = child.status;
  }

  get stdinClosed(): boolean {
    return this.#stdinClosed;
  }

  /**
   * Writes one stream-json line. Fails when stdin is closed or the process is gone, and refuses
   * (TypeError, nothing written) anything but one JSON object plus "\n": one bad line kills the CLI.
   */
  async sendLine(line: string): Promise<void> {
    assertStdinLine(line);
    if (this.#stdinClosed) throw new Error("Cannot write to claude: stdin is closed");
    await this.#stdin.write(this.#encoder.encode(line));
  }

  sendUserMessage(text: string): Promise<void> {
    return this.sendLine(userMessageLine(text));
  }

  /** Closing stdin tells the CLI to finish its turns and exit. Idempotent, never throws. */
  async closeStdin(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    try {
      await this.#stdin.close();
    } catch {
      // The process may already be gone (EPIPE): nothing left to close.
    }
  }

  /** Signals the direct child only (allowed under a narrow --allow-run); trees go through process_tree. */
  signal(signal: Deno.Signal): boolean {
    try {
      this.#child.kill(signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** A pipe read while the child is quiet; a read that fills it doubles it, up to {@linkcode MAX_READ}. */
const MIN_READ = 4 * 1024;
const MAX_READ = 64 * 1024;

/**
 * A child's pipe as chunks of exactly the bytes read. The pipe's own stream reads into a fresh
 * 64 KiB buffer per read, held while the child is silent, and a line cut from a chunk (a
 * `subarray`) keeps that whole buffer alive until it is collected: ~128 KiB per idle agent, and
 * 64 KiB per stored line while the writer holds it. Here one buffer per pipe is read into (BYOB),
 * sized to the traffic, and each read is copied out at its length.
 */
export function pipeChunks(
  pipe: ReadableStream<Uint8Array>,
  onBytes: () => void = () => {},
): ReadableStream<Uint8Array> {
  const reader = pipe.getReader({ mode: "byob" });
  let size = MIN_READ;
  let buffer = new ArrayBuffer(size);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read(new Uint8Array(buffer, 0, size));
      if (done || !value) {
        controller.close();
        return;
      }
      buffer = value.buffer as ArrayBuffer;
      onBytes();
      controller.enqueue(value.slice());
      if (value.length === size && size < MAX_READ) size *= 2;
      else if (value.length < size / 8 && size > MIN_READ) size /= 2;
      else return;
      buffer = new ArrayBuffer(size);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Starts claude. Throws SpawnError when the binary or cwd is unusable. */
export function spawnClaude(options: SpawnClaudeOptions): ClaudeProcess {
  let child: Deno.ChildProcess;
  const sandbox = options.sandbox ?? null;
  // A missing claude would only show as the exit of bwrap (or setsid): fail the spawn itself.
  if (!findExecutable(options.bin, options.env.PATH)) {
    throw new SpawnError(`Cannot start claude: the claude CLI "${options.bin}" was not found`, {
      code: "claude_not_found",
    });
  }
  try {
    child = spawnSessionLeader(
      sandbox ? sandbox.bin : options.bin,
      sandbox
        ? bwrapArgs(sandboxMounts(options, sandbox), [options.bin, ...options.args])
        : options.args,
      options,
    );
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new SpawnError(`Cannot start claude: ${reason}`, { cause: err });
    }
    // ENOENT names neither the program nor the cwd: say which one is missing.
    const cwdMissing = !isDirectory(options.cwd);
    const program = sandbox ? sandbox.bin : options.bin;
    throw new SpawnError(
      cwdMissing
        ? `Cannot start claude: the working directory "${options.cwd}" does not exist`
        : `Cannot start claude: ${sandbox ? "the sandbox program" : "the claude CLI"} ` +
          `"${program}" was not found`,
      {
        cause: err,
        code: cwdMissing ? "invalid_cwd" : sandbox ? "spawn_failed" : "claude_not_found",
      },
    );
  }
  return new ClaudeProcess(child, { ...options, sandboxed: sandbox !== null });
}

/**
 * Whether `setsid` (util-linux) starts children here. Through it a child becomes its own session
 * and group leader without forking the daemon: `detached` does the same with a hook run between
 * fork and exec, which makes every spawn a full fork of this process (5–20 ms of the event loop
 * at the daemon's size, against under 1 ms for a plain spawn). Once it is found missing, spawns
 * fall back to `detached`.
 */
let setsidUsable = true;

/** Spawns `program` as the leader of a new session (so its pgid is its pid), pipes on stdio. */
function spawnSessionLeader(
  program: string,
  args: string[],
  options: Pick<SpawnClaudeOptions, "cwd" | "env">,
): Deno.ChildProcess {
  const stdio = { stdin: "piped", stdout: "piped", stderr: "piped" } as const;
  const common = { cwd: options.cwd, env: options.env, clearEnv: true, ...stdio };
  if (setsidUsable) {
    try {
      // A fresh child is never a group leader, so setsid execs in place: the pid stays.
      return new Deno.Command("setsid", { ...common, args: ["--", program, ...args] }).spawn();
    } catch (err) {
      const missing = err instanceof Deno.errors.NotFound && isDirectory(options.cwd);
      if (!missing && !(err instanceof Deno.errors.NotCapable)) throw err;
      setsidUsable = false;
    }
  }
  return new Deno.Command(program, { ...common, args, detached: true }).spawn();
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (err) {
    // Not readable under narrow permissions: it may well exist.
    return !(err instanceof Deno.errors.NotFound);
  }
}

/** Whether `bin` may name an existing file (a path, or a name found on `path`). */
function findExecutable(bin: string, path: string | undefined): boolean {
  const candidates = bin.includes("/")
    ? [bin]
    : (path ?? "").split(":").filter((d) => d.startsWith("/")).map((d) => `${d}/${bin}`);
  return candidates.some((file) => {
    try {
      return Deno.statSync(file).isFile;
    } catch (err) {
      // Not readable under narrow permissions: unknown, so let bwrap try (and report) it.
      return !(err instanceof Deno.errors.NotFound);
    }
  });
}

/** What one agent's sandbox exposes, read from its options (env, args, cwd). */
function sandboxMounts(options: SpawnClaudeOptions, policy: SandboxPolicy) {
  const env = options.env;
  const proxied = env.ANTHROPIC_UNIX_SOCKET !== undefined;
  const home = env.HOME?.replace(/\/+$/, "");
  const config = env.CLAUDE_CONFIG_DIR
    ? [env.CLAUDE_CONFIG_DIR]
    : home
    ? [`${home}/.claude`, `${home}/.claude.json`]
    : [];
  const mcp = options.args.indexOf("--mcp-config");
  return {
    cwd: options.cwd,
    // The repository's git dir when it is not inside the cwd: the agent can still commit.
    writable: [
      ...config,
      ...(proxied ? [env.ANTHROPIC_UNIX_SOCKET!] : []),
      ...gitMetadataDirs(options.cwd),
    ],
    readable: mcp >= 0 && options.args[mcp + 1]?.startsWith("/") ? [options.args[mcp + 1]!] : [],
    hide: [...policy.hide, ...(proxied ? policy.hideWhenProxied : [])],
  };
}
