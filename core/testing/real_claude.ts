/**
 * Helpers to run the REAL `claude` CLI in tests, against {@linkcode startMockAnthropic} (never the
 * network): a filtered environment, a temp HOME / `CLAUDE_CONFIG_DIR` / `TMPDIR`, stream-json on stdin and
 * stdout.
 *
 * - {@linkcode realClaudeAvailable}: `claude --version` works (skip real-CLI tests otherwise).
 * - {@linkcode realClaudeEnv}: the environment (PATH, HOME, IS_SANDBOX, ANTHROPIC_BASE_URL/API_KEY,
 *   CLAUDE_CONFIG_DIR, CLAUDE_CODE_MAX_RETRIES, API_TIMEOUT_MS, no telemetry / autoupdate / nonessential
 *   traffic).
 * - {@linkcode startRealClaude}: a running process with `send()`, `nextResult()`, `closeStdin()`,
 *   `status()`; `await using` kills it and removes the temp dirs it created.
 * - {@linkcode runRealClaudeTurn}: one prompt → lines until `result` → stdin closed → exit code.
 *
 * @example
 * ```ts
 * await using mock = await startMockAnthropic();
 * await using turn = await runRealClaudeTurn({ mockUrl: mock.url, prompt: "hi" });
 * console.log(turn.result.result); // "Hello from mock"
 * ```
 * @module
 */

/** The real CLI binary: `$HERO_ORCHESTRATOR_REAL_CLAUDE` or `claude` on PATH. */
export const REAL_CLAUDE_BIN: string = Deno.env.get("HERO_ORCHESTRATOR_REAL_CLAUDE") ?? "claude";

/** The stream-json flags the SDK (and the supervisor) use. */
export const STREAM_JSON_ARGS: readonly string[] = [
  "--output-format",
  "stream-json",
  "--verbose",
  "--input-format",
  "stream-json",
];

let available: Promise<boolean> | undefined;

/** Whether `REAL_CLAUDE_BIN --version` runs and prints `(Claude Code)`. Cached. */
export function realClaudeAvailable(): Promise<boolean> {
  available ??= (async () => {
    try {
      const out = await new Deno.Command(REAL_CLAUDE_BIN, {
        args: ["--version"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
        env: { DISABLE_AUTOUPDATER: "1" },
      }).output();
      return out.success && new TextDecoder().decode(out.stdout).includes("(Claude Code)");
    } catch {
      return false;
    }
  })();
  return available;
}

/** Options of {@linkcode realClaudeEnv}. */
export interface RealClaudeEnvOptions {
  /** The mock's base URL (`ANTHROPIC_BASE_URL`). */
  mockUrl: string;
  home: string;
  configDir: string;
  /** `TMPDIR` for the CLI (sockets, Bash tool temp files). Omitted when undefined. */
  tmpDir?: string;
  /** `CLAUDE_CODE_MAX_RETRIES`. Default 0. */
  maxRetries?: number;
  /** `API_TIMEOUT_MS`. Default 20000. */
  apiTimeoutMs?: number;
  /** Extra variables (win over the defaults). */
  extra?: Record<string, string>;
}

/** The complete environment for a real CLI run against the mock (use with `clearEnv: true`). */
export function realClaudeEnv(options: RealClaudeEnvOptions): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: options.home,
    IS_SANDBOX: "1",
    ANTHROPIC_BASE_URL: options.mockUrl,
    ANTHROPIC_API_KEY: "sk-test",
    CLAUDE_CONFIG_DIR: options.configDir,
    CLAUDE_CODE_MAX_RETRIES: String(options.maxRetries ?? 0),
    API_TIMEOUT_MS: String(options.apiTimeoutMs ?? 20_000),
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    ...(options.tmpDir ? { TMPDIR: options.tmpDir } : {}),
    ...options.extra,
  };
}

/**
 * The daemon-side variables for agents that run the real CLI against the mock at `mockUrl`: the
 * engine's claude binary, the endpoint and a key, no retries, no nonessential traffic.
 */
export function realCliDaemonEnv(options: {
  mockUrl: string;
  /** `CLAUDE_CONFIG_DIR`, when the test has one yet. */
  configDir?: string;
  /** Default `sk-test`. */
  apiKey?: string;
}): Record<string, string> {
  return {
    HERO_ORCHESTRATOR_CLAUDE_BIN: REAL_CLAUDE_BIN,
    // These runs reach the mock directly through ANTHROPIC_BASE_URL: only shadows use the proxy
    // (tests of the default scope `all` set the scope and HERO_ORCHESTRATOR_UPSTREAM_URL).
    HERO_ORCHESTRATOR_PROXY_SCOPE: "shadows_only",
    ANTHROPIC_BASE_URL: options.mockUrl,
    ANTHROPIC_API_KEY: options.apiKey ?? "sk-test",
    ...(options.configDir ? { CLAUDE_CONFIG_DIR: options.configDir } : {}),
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES: "0",
  };
}

/** Options of {@linkcode startRealClaude}. */
export interface StartRealClaudeOptions {
  mockUrl: string;
  /** Working directory. Default: `<temp root>/cwd`. */
  cwd?: string;
  /** Default `claude-haiku-4-5`. */
  model?: string;
  /** Default `bypassPermissions`. `null` omits the flag. */
  permissionMode?: string | null;
  /** Extra CLI arguments, after the stream-json flags. */
  args?: string[];
  /** `CLAUDE_CODE_MAX_RETRIES`. Default 0. */
  maxRetries?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Binary. Default {@linkcode REAL_CLAUDE_BIN}. */
  bin?: string;
}

/** A stdout line of the CLI, parsed (`{ raw }` when it was not JSON). */
export type ClaudeLine = Record<string, unknown>;

/** A running real CLI process. */
export interface RealClaudeProcess extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** Temp root holding `home/`, `config/`, `tmp/` (and `cwd/` unless a cwd was given). */
  root: string;
  cwd: string;
  home: string;
  configDir: string;
  /** Every stdout line so far. */
  lines: ClaudeLine[];
  /** stderr so far. */
  stderr(): string;
  /** Writes one stream-json user message (a text prompt or a full message object). */
  send(prompt: string | Record<string, unknown>): Promise<void>;
  /** The next `result` line not returned yet. Rejects after `timeoutMs` (default 60 s) or on exit. */
  nextResult(timeoutMs?: number): Promise<ClaudeLine>;
  /** Resolves with the first line (from `from`, default 0) matching `predicate`. */
  waitForLine(
    predicate: (line: ClaudeLine) => boolean,
    options?: { timeoutMs?: number; from?: number },
  ): Promise<ClaudeLine>;
  closeStdin(): Promise<void>;
  /** Exit status (stdout fully read first). */
  status(): Promise<Deno.CommandStatus>;
  /** Kills (SIGKILL) if still running, awaits exit, removes the temp root. */
  dispose(): Promise<void>;
}

/** Spawns the real CLI in stream-json mode against the mock. */
export async function startRealClaude(options: StartRealClaudeOptions): Promise<RealClaudeProcess> {
  const root = await Deno.makeTempDir({ prefix: "hero_real_claude_" });
  const home = `${root}/home`;
  const configDir = `${root}/config`;
  const tmpDir = `${root}/tmp`;
  const cwd = options.cwd ?? `${root}/cwd`;
  for (const dir of [home, configDir, tmpDir, cwd]) await Deno.mkdir(dir, { recursive: true });

  const args = [
    ...STREAM_JSON_ARGS,
    "--model",
    options.model ?? "claude-haiku-4-5",
    ...(options.permissionMode === null
      ? []
      : ["--permission-mode", options.permissionMode ?? "bypassPermissions"]),
    ...(options.args ?? []),
  ];
  const child = new Deno.Command(options.bin ?? REAL_CLAUDE_BIN, {
    args,
    cwd,
    clearEnv: true,
    env: realClaudeEnv({
      mockUrl: options.mockUrl,
      home,
      configDir,
      tmpDir,
      maxRetries: options.maxRetries ?? 0,
      extra: options.env,
    }),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const lines: ClaudeLine[] = [];
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const w of [...wakers]) w();
  };
  let stdoutDone = false;
  let stderrText = "";

  const stdoutPump = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    const push = (line: string) => {
      if (line.trim() === "") return;
      try {
        const parsed = JSON.parse(line);
        lines.push(typeof parsed === "object" && parsed !== null ? parsed : { raw: line });
      } catch {
        lines.push({ raw: line });
      }
    };
    for await (const chunk of child.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      if (!text.includes("\n")) {
        buffer += text; // only the new chunk is scanned: no quadratic rescans
        continue;
      }
      const parts = (buffer + text).split("\n");
      buffer = parts.pop()!;
      parts.forEach(push);
      wake();
    }
    push(buffer + decoder.decode());
    stdoutDone = true;
    wake();
  })();
  const stderrPump = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderrText += decoder.decode(chunk, { stream: true });
  })();

  const writer = child.stdin.getWriter();
  let stdinClosed = false;
  let resultsSeen = 0;

  function describe(): string {
    const tail = lines.slice(-5).map((l) => JSON.stringify(l).slice(0, 300)).join("\n  ");
    return `${lines.length} lines, last:\n  ${tail}\nstderr: ${stderrText.slice(-1000)}`;
  }

  function waitForLine(
    predicate: (line: ClaudeLine) => boolean,
    { timeoutMs = 60_000, from = 0 }: { timeoutMs?: number; from?: number } = {},
  ): Promise<ClaudeLine> {
    return new Promise((resolve, reject) => {
      let index = from;
      const check = () => {
        for (; index < lines.length; index++) {
          if (predicate(lines[index]!)) {
            cleanup();
            resolve(lines[index]!);
            return;
          }
        }
        if (stdoutDone) {
          cleanup();
          reject(new Error(`Cannot find the awaited claude line: stdout closed (${describe()})`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Cannot find the awaited claude line in ${timeoutMs} ms (${describe()})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        wakers.delete(check);
      };
      wakers.add(check);
      check();
    });
  }

  async function nextResult(timeoutMs = 60_000): Promise<ClaudeLine> {
    let seen = 0;
    const line = await waitForLine(
      (l) => l.type === "result" && ++seen > resultsSeen,
      { timeoutMs },
    );
    resultsSeen++;
    return line;
  }

  async function send(prompt: string | Record<string, unknown>): Promise<void> {
    const message = typeof prompt === "string"
      ? {
        type: "user",
        message: { role: "user", content: [{ type: "text", text: prompt }] },
      }
      : prompt;
    await writer.write(new TextEncoder().encode(JSON.stringify(message) + "\n"));
  }

  async function closeStdin(): Promise<void> {
    if (stdinClosed) return;
    stdinClosed = true;
    try {
      await writer.close();
    } catch {
      // the process is gone
    }
  }

  async function status(): Promise<Deno.CommandStatus> {
    const st = await child.status;
    await Promise.allSettled([stdoutPump, stderrPump]);
    return st;
  }

  let disposed: Promise<void> | undefined;
  function dispose(): Promise<void> {
    disposed ??= (async () => {
      await closeStdin();
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await status();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    })();
    return disposed;
  }

  return {
    child,
    root,
    cwd,
    home,
    configDir,
    lines,
    stderr: () => stderrText,
    send,
    nextResult,
    waitForLine,
    closeStdin,
    status,
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

/** Options of {@linkcode runRealClaudeTurn}. */
export interface RunRealClaudeTurnOptions extends StartRealClaudeOptions {
  prompt: string | Record<string, unknown>;
  /** Overall timeout for the result and the exit. Default 60 s. */
  timeoutMs?: number;
}

/** Outcome of {@linkcode runRealClaudeTurn}; dispose it to remove the temp dirs. */
export interface RealClaudeTurn extends AsyncDisposable {
  lines: ClaudeLine[];
  init: ClaudeLine | undefined;
  result: ClaudeLine;
  code: number;
  stderr: string;
  cwd: string;
  home: string;
  configDir: string;
  root: string;
  dispose(): Promise<void>;
}

/**
 * Spawns the real CLI, sends one prompt, reads until the `result`, closes stdin and awaits the exit.
 * The process is killed on timeout. The temp root stays until the returned turn is disposed (so tests can
 * inspect files written in `cwd`).
 */
export async function runRealClaudeTurn(
  options: RunRealClaudeTurnOptions,
): Promise<RealClaudeTurn> {
  const proc = await startRealClaude(options);
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    await proc.send(options.prompt);
    const result = await proc.nextResult(timeoutMs);
    await proc.closeStdin();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const st = await Promise.race([
      proc.status(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Cannot await claude exit: still running after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return {
      lines: proc.lines,
      init: proc.lines.find((l) => l.type === "system" && l.subtype === "init"),
      result,
      code: st.code,
      stderr: proc.stderr(),
      cwd: proc.cwd,
      home: proc.home,
      configDir: proc.configDir,
      root: proc.root,
      dispose: proc.dispose,
      [Symbol.asyncDispose]: proc.dispose,
    };
  } catch (error) {
    await proc.dispose();
    throw error;
  }
}
