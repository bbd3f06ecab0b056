import { ByteLineStream, type Line } from "./line_stream.ts";
import { StderrTail } from "./stderr_tail.ts";
import { assertStdinLine, userMessageLine } from "./args.ts";

export interface SpawnClaudeOptions {
  bin: string;
  args: string[];
  cwd: string;
  /** The full child environment (the child is spawned with `clearEnv: true`). */
  env: Record<string, string>;
  maxLineBytes: number;
  stderrTailBytes: number;
}

export class SpawnError extends Error {
  override name = "SpawnError";
  readonly code = "spawn_failed";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * One running claude CLI process in stream-json input mode.
 *
 * The process is its own session and process-group leader (`detached: true`), so its pgid equals
 * its pid and a group signal never reaches the daemon. Stdout is exposed as bounded lines; stderr
 * is drained concurrently into a bounded tail so a flood cannot block the child.
 */
export class ClaudeProcess {
  readonly pid: number;
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
    options: Pick<SpawnClaudeOptions, "maxLineBytes" | "stderrTailBytes">,
  ) {
    this.#child = child;
    this.pid = child.pid;
    this.#stdin = child.stdin.getWriter();
    this.lines = child.stdout
      .pipeThrough(this.#tap())
      .pipeThrough(new ByteLineStream({ maxLineBytes: options.maxLineBytes }));
    this.stderr = new StderrTail(options.stderrTailBytes);
    this.stderrDone = this.stderr.drain(child.stderr.pipeThrough(this.#tap())).catch(() => {});
    this.status = child.status;
  }

  #tap(): TransformStream<Uint8Array, Uint8Array> {
    return new TransformStream({
      transform: (chunk, controller) => {
        this.lastOutputAt = Date.now();
        controller.enqueue(chunk);
      },
    });
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

/** Starts claude. Throws SpawnError when the binary or cwd is unusable. */
export function spawnClaude(options: SpawnClaudeOptions): ClaudeProcess {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(options.bin, {
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? `"${options.bin}" or the working directory "${options.cwd}" does not exist`
      : err instanceof Error
      ? err.message
      : String(err);
    throw new SpawnError(`Cannot start claude: ${reason}`, { cause: err });
  }
  return new ClaudeProcess(child, options);
}
