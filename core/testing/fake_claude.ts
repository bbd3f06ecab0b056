/**
 * Fake `claude` CLI (2.1.328 look-alike) for tests. Run it through the `bin/claude` wrapper
 * (`FAKE_CLAUDE_BIN` in `mod.ts`). It imports nothing but web APIs, the `Deno` namespace and the
 * one-line version constant so that it starts in ~20 ms; that is also why it is one (long) file.
 *
 * # Command line
 * - `--version` / `-v` → `2.1.328 (Claude Code)`, exit 0.
 * - `auth status [--json|--text]` → the JSON of protocol doc §7. Like the real CLI: exit 0 when credentials
 *   are present (`ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`, `CLAUDE_CODE_OAUTH_TOKEN`, or
 *   `<config>/.credentials.json`), else `"loggedIn":false` and exit 1.
 * - `doctor` → a short text report, exit 0. `auth login` → prints a URL and waits forever.
 * - Otherwise the stream-json agent mode (`--output-format stream-json --verbose --input-format
 *   stream-json`). Understood flags: `--model M` (aliases `opus|sonnet|haiku|default|fable` resolve like the
 *   real CLI), `--effort E` (unknown values warn on stderr and are ignored), `--permission-mode M`,
 *   `--resume|-r ID` (session id = ID), `--fork-session` (new id), `--session-id UUID`, `--mcp-config JSON|file`
 *   (server names listed as connected in `system/init`), `--replay-user-messages` (see "Replay" below),
 *   `-p/--print [prompt]` (one turn from argv; output `text`, `json` or `stream-json`). Other flags are
 *   accepted and ignored (`--flag=value` and the usual value-taking flags are skipped correctly).
 * - As root, `--permission-mode bypassPermissions` / `--dangerously-skip-permissions` exit 1 unless
 *   `IS_SANDBOX=1` (same message as the real CLI).
 *
 * # stdin / stdout
 * Prints nothing until the first stdin line. stdin is JSON lines:
 * - `{"type":"user","message":{"role":"user","content": string | [{type:"text",text}]}}` = one turn (text
 *   blocks joined with `\n`). Turns run one at a time; lines arriving during a turn are queued. A `uuid` on
 *   the message adds `command_lifecycle` frames (`queued` → `started` → `completed|cancelled`).
 *   `shouldQuery:false` and content-less messages are ignored.
 * - `control_request`: `initialize`, `interrupt` (aborts the running turn → `error_during_execution`
 *   result), `set_permission_mode`, `set_model`, `set_max_thinking_tokens`, `get_binary_version`,
 *   `get_session_cost`, `mcp_status` are answered; other subtypes get the real CLI's
 *   `unsupported_request` error. Other types are ignored.
 * - A non-JSON line → stderr `Error parsing streaming input line (type=unknown, N chars): SyntaxError`,
 *   exit 1 at once, no result (like the real CLI).
 * - stdin closed → the running and queued turns finish, then exit 0 if the last result had
 *   `is_error:false` (or no result was ever emitted), else 1. A scenario's `exitCode` overrides this.
 *
 * # Default turn (prompt without a scenario)
 * `system/init` (session_id = `--resume` id, else `--session-id`, else a random UUID; cwd; model;
 * permissionMode) → one `assistant` text line whose text is the prompt verbatim (unique `message.id`,
 * usage 12 in / 6 out) → `result` (`success`, `is_error:false`, `num_turns:1`, `result` = the prompt,
 * `total_cost_usd` cumulative per process: +0.000042 per turn, cumulative `modelUsage`, `result_index`).
 * Keys come in the real CLI's (non-alphabetical) order: `type` is near the end of `result`.
 *
 * # Replay (`--replay-user-messages`)
 * Like 2.1.328: each turn's stdin message comes back as
 * `{"type":"user","message":{"role":"user","content":<as sent: string or blocks>},"session_id","parent_tool_use_id":null,"uuid":<sent uuid or random>,"timestamp","isReplay":true}`,
 * right after the turn's first `system/init` (default turn: `init` → echo → `assistant` → `result`;
 * `auto` scenarios: `init` → echo → steps; other scenarios: after their first `init` step). A scenario
 * that emits no `init` emits no echo either: it stands for raw output, so nothing is added to it.
 *
 * # Scenarios
 * A prompt starting with `FAKE:` is followed by scenario JSON; `FAKE_FILE:` by an absolute path to a JSON
 * file. The scenario is `{"steps":[…], "auto"?: bool, "exitCode"?: n}` (a bare array of steps works too).
 * Nothing is added implicitly: without `"auto": true` a scenario emits no `system/init` and no `result`
 * unless its steps do (to simulate crashes). With `"auto": true`, `system/init` is emitted first and, if no
 * step emitted a result, a default `result` (text = last `text` step) is emitted at the end. Invalid
 * scenario JSON → stderr message + an `is_error:true` result. A prompt that does not start with `FAKE:` but
 * contains `FAKE_STUCK_UPSTREAM` anywhere (say, a shadow's prompt quoting its agent's task) runs the
 * built-in {@linkcode STUCK_UPSTREAM} scenario: a CLI retrying an upstream that never answers, which
 * ignores SIGTERM and has a detached `sleep` in its tree. Steps, in order:
 * | step | effect |
 * |---|---|
 * | `{"init": true}` | emit `system/init` |
 * | `{"text": "…"}` | `assistant` line with one text block |
 * | `{"toolUse": {"name", "input"?, "id"?}}` | `assistant` line with one tool_use block |
 * | `{"toolResult": "…", "toolUseId"?, "isError"?}` | `user` line with one tool_result block |
 * | `{"ask": {"tool"?, "input"?, "id"?, "description"?, "suggestions"?}}` | a tool_use line, then a `can_use_tool` control request (as with `--permission-prompt-tool stdio`); waits for its `control_response`. allow → a `Write` writes `updatedInput.file_path` (else the input's) and the tool_result says so; deny → an `is_error` tool_result with the message. Interrupted while waiting → `control_cancel_request`, then the interrupted result |
 * | `{"result": {…overrides}}` | `result` line; defaults as above; overrides: `is_error`, `subtype`, `result`, `api_error_status`, `num_turns`, `usage`, `total_cost_usd` (sets the cumulative total), `cost` (adds to it; default 0.000042), `terminal_reason`, `stop_reason`, `errors`, any other key (added). `is_error:true` defaults `terminal_reason` to `api_error` |
 * | `{"apiError": status \| {"status", "message"?}}` | synthetic `assistant` error line (`model:"<synthetic>"`, `error`, `is_api_error_message`) + its `result` (`success`, `is_error:true`, `api_error_status`) |
 * | `{"line": obj \| "str"}` | one line (object → JSON.stringify; string as-is). `{{session_id}}` is substituted |
 * | `{"repeat": N, "line": …}` | the line N times (`{{i}}` → 0-based index), batched writes |
 * | `{"lines": N, "bytes"?: B}` | N assistant-shaped lines, each with `"index": i` (0-based) and text `line i …`, padded to exactly B bytes (newline excluded; full realistic shape from ~520 B, compact shape from ~230 B, unpadded below that), batched ~1 MiB per write |
 * | `{"bigLine": B}` | one valid JSON line of exactly B bytes (newline excluded) |
 * | `{"noNewlineBytes": B}` | B bytes of `a` without any newline (64 KiB writes), then continue |
 * | `{"raw": "<base64>"}` | the decoded bytes as-is (invalid UTF-8, CRLF, no final newline…) |
 * | `{"stderr": B \| "text"}` | B bytes of numbered lines (1 MiB writes) or the text, to stderr |
 * | `{"sleep": ms}` | wait (interruptible) |
 * | `{"spawn": "cmd", "newSession"?: bool, "pidFile"?: path}` | start `sh -c cmd` (via `setsid` when newSession: own session + process group, like the Bash tool), stdio ignored, not awaited; the pid goes to pidFile |
 * | `{"spawnWait": "cmd"}` | run `sh -c cmd`, stdio ignored, wait for it (killed on interrupt) |
 * | `{"ignoreSigterm": true}` | SIGTERM does nothing from now on |
 * | `{"stop": true}` | SIGSTOP itself |
 * | `{"exit": code}` | flush stdout, exit immediately |
 * | `{"hang": true}` | never finish the turn, never exit (even after stdin closes); interrupt/SIGINT still end it |
 * | `{"record": "/abs/path.json"}` | write `{argv, env, cwd, pid, ppid, stdinLines}` (stdin lines so far) |
 * | `{"rateLimitRejected": {"resetsAt"?, "rateLimitType"?, "thenResult"?}}` | `rate_limit_event` with status `rejected`, then hang silently; with `thenResult`, a synthetic 429 `rate_limit` error + `result` (`You've hit your 5-hour limit · resets 2:14pm (UTC)`), which is what 2.1.328 did against the mock with an OAuth token |
 * | `{"waitStdinClose": true}` | wait until stdin reaches EOF |
 * | `{"closeStdout": true}` | flush and close stdout for real, like `exec 1>&-` (the reader sees EOF; the process continues) |
 *
 * # Signals
 * SIGTERM → exit 143 at once, no result (unless `ignoreSigterm`). SIGINT during a turn → `result`
 * `error_during_execution` / `aborted_streaming` (`result:null`, `errors`), then exit 0; SIGINT while idle →
 * exit 0 with no output (like the real CLI).
 * @module
 */
import { TESTED_CLAUDE_VERSION } from "../config/claude_version.ts";

/** One scenario step; see the module documentation. */
export type FakeStep =
  | { init: true }
  | { text: string }
  | { toolUse: { name: string; input?: Record<string, unknown>; id?: string } }
  | { toolResult: string; toolUseId?: string; isError?: boolean }
  | {
    ask: {
      tool?: string;
      input?: Record<string, unknown>;
      id?: string;
      description?: string;
      suggestions?: unknown[];
    };
  }
  | { result: FakeResultOverrides | true }
  | { apiError: number | { status: number; message?: string } }
  | { line: unknown }
  | { repeat: number; line: unknown }
  | { lines: number; bytes?: number }
  | { bigLine: number }
  | { noNewlineBytes: number }
  | { raw: string }
  | { stderr: number | string }
  | { sleep: number }
  | { spawn: string; newSession?: boolean; pidFile?: string }
  | { spawnWait: string }
  | { ignoreSigterm: true }
  | { stop: true }
  | { exit: number }
  | { hang: true }
  | { record: string }
  | { rateLimitRejected: { resetsAt?: number; rateLimitType?: string; thenResult?: boolean } }
  | { waitStdinClose: true }
  | { closeStdout: true };

/** Overrides of a `result` step. */
export interface FakeResultOverrides {
  is_error?: boolean;
  subtype?: string;
  result?: string | null;
  api_error_status?: number | null;
  num_turns?: number;
  usage?: Record<string, unknown>;
  total_cost_usd?: number;
  cost?: number;
  terminal_reason?: string;
  stop_reason?: string | null;
  errors?: string[];
  [key: string]: unknown;
}

/** A scenario: the JSON after `FAKE:` or in a `FAKE_FILE:` file. */
export interface FakeScenario {
  steps: FakeStep[];
  /** Wrap the steps with `system/init` and (if none emitted) a default `result`. */
  auto?: boolean;
  /** Exit code once stdin closes (instead of the last result's). */
  exitCode?: number;
}

const VERSION = TESTED_CLAUDE_VERSION;
const DEFAULT_COST = 0.000042;
const encoder = new TextEncoder();
const VALUE_FLAGS = new Set([
  "--output-format",
  "--input-format",
  "--model",
  "--effort",
  "--permission-mode",
  "--resume",
  "--resume-session-at",
  "-r",
  "--session-id",
  "--mcp-config",
  "--max-turns",
  "--permission-prompt-tool",
  "--allowedTools",
  "--allowed-tools",
  "--disallowedTools",
  "--disallowed-tools",
  "--tools",
  "--setting-sources",
  "--settings",
  "--max-thinking-tokens",
  "--append-system-prompt",
  "--system-prompt",
  "--add-dir",
  "--fallback-model",
  "--agents",
  "--agent",
  "--betas",
  "--max-budget-usd",
  "--json-schema",
  "--debug-file",
  "--plugin-dir",
  "--name",
]);
const MODEL_ALIASES: Record<string, string> = {
  default: "claude-opus-5-5",
  opus: "claude-opus-5-5",
  sonnet: "claude-sonnet-5-5",
  haiku: "claude-haiku-5-5",
  fable: "claude-fable-5-2",
};
const PERMISSION_MODES = ["default", "acceptEdits", "bypassPermissions", "plan", "dontAsk", "auto"];
const EFFORTS = ["low", "medium", "high", "xhigh", "max"];
const TOOLS = ["Task", "Bash", "Edit", "Read", "Write", "WebFetch", "WebSearch", "ToolSearch"];
const CAPABILITIES = ["interrupt_receipt_v1", "interrupt_cancel_queued_v1", "msg_lifecycle_v1"];

interface Args {
  flags: Map<string, string | true>;
  positional: string[];
}

/** Parses argv the way the fake needs it: value flags, boolean flags, positionals. */
function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const eq = arg.indexOf("=");
      if (arg.startsWith("--") && eq > 0) {
        flags.set(arg.slice(0, eq), arg.slice(eq + 1));
      } else if (VALUE_FLAGS.has(arg) && i + 1 < argv.length) {
        flags.set(arg, argv[++i]!);
      } else {
        flags.set(arg, true);
      }
    } else {
      positional.push(arg);
    }
  }
  return { flags, positional };
}

/** Serialised writes to one stream; errors (closed pipe) silence the stream instead of throwing. */
class Sink {
  #chain: Promise<void> = Promise.resolve();
  #broken = false;
  #file: { write(p: Uint8Array): Promise<number>; close(): void };
  constructor(file: { write(p: Uint8Array): Promise<number>; close(): void }) {
    this.#file = file;
  }
  write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.#chain = this.#chain.then(() => this.#writeAll(bytes));
    return this.#chain;
  }
  flush(): Promise<void> {
    return this.#chain;
  }
  close(): Promise<void> {
    this.#chain = this.#chain.then(() => {
      if (this.#broken) return;
      this.#broken = true;
      try {
        this.#file.close();
      } catch {
        // already closed
      }
    });
    return this.#chain;
  }
  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (!this.#broken && offset < bytes.length) {
      try {
        offset += await this.#file.write(bytes.subarray(offset));
      } catch {
        this.#broken = true;
      }
    }
  }
}

interface Turn {
  text: string;
  uuid: string | undefined;
  /** The stdin message's `content` as sent (echoed by `--replay-user-messages`); none for `-p`. */
  content?: unknown;
  /** Whether the replay echo of this turn was written. */
  replayed: boolean;
  started: number;
  abort: AbortController;
  resultEmitted: boolean;
  lastText: string;
}

class Interrupted extends Error {
  constructor() {
    super("Interrupted");
    this.name = "Interrupted";
  }
}

/** The fake CLI process. */
class FakeClaude {
  readonly out = new Sink(Deno.stdout);
  readonly err = new Sink(Deno.stderr);
  readonly args: Args;
  readonly cwd = Deno.cwd();
  readonly stdinLines: string[] = [];
  model: string;
  permissionMode: string;
  sessionId: string;
  outputFormat: string;
  totalCost = 0;
  resultIndex = 0;
  modelUsage: Record<string, Record<string, unknown>> = {};
  lastResultIsError: boolean | undefined;
  exitOverride: number | undefined;
  ignoreSigterm = false;
  queue: Turn[] = [];
  current: Turn | undefined;
  stdinClosed = false;
  #stdinClosedWaiters: (() => void)[] = [];
  #finishing = false;
  /** Set by SIGINT: exit with this code once the running turn has written its result. */
  exitAfterTurn: number | undefined;
  /** `--replay-user-messages`: echo each turn's stdin message after its `system/init`. */
  readonly replay: boolean;
  #messageCounter = 0;
  /** Permission requests waiting for their control_response, by request id. */
  #asks = new Map<string, (response: Record<string, unknown>) => void>();

  constructor(args: Args) {
    this.args = args;
    const flag = (name: string) => {
      const v = args.flags.get(name);
      return typeof v === "string" ? v : undefined;
    };
    const model = flag("--model") ?? "default";
    this.model = MODEL_ALIASES[model] ?? model;
    this.permissionMode = args.flags.has("--dangerously-skip-permissions")
      ? "bypassPermissions"
      : flag("--permission-mode") ?? "default";
    const resume = flag("--resume") ?? flag("-r");
    this.sessionId = resume && !args.flags.has("--fork-session")
      ? resume
      : flag("--session-id") ?? crypto.randomUUID();
    this.outputFormat = flag("--output-format") ?? "text";
    this.replay = args.flags.has("--replay-user-messages");
  }

  flag(name: string): string | undefined {
    const v = this.args.flags.get(name);
    return typeof v === "string" ? v : undefined;
  }

  // ---- stdout helpers -------------------------------------------------------------------------

  /** Emits one JSON line (only the result in `-p` text/json output modes). */
  emit(message: Record<string, unknown>): Promise<void> {
    if (this.outputFormat === "stream-json") {
      return this.out.write(JSON.stringify(message) + "\n");
    }
    if (message.type === "result") {
      const text = this.outputFormat === "json"
        ? JSON.stringify(message)
        : String(message.result ?? "");
      return this.out.write(text + "\n");
    }
    return Promise.resolve();
  }

  nextMessageId(): string {
    return `msg_fake_${Deno.pid}_${++this.#messageCounter}`;
  }

  initMessage(): Record<string, unknown> {
    return {
      type: "system",
      subtype: "init",
      cwd: this.cwd,
      session_id: this.sessionId,
      tools: TOOLS,
      mcp_servers: this.mcpServers(),
      model: this.model,
      permissionMode: this.permissionMode,
      slash_commands: ["compact", "context", "cost", "init", "review"],
      apiKeySource: Deno.env.get("ANTHROPIC_API_KEY") ? "ANTHROPIC_API_KEY" : "none",
      claude_code_version: VERSION,
      output_style: "default",
      agents: ["claude", "Explore", "general-purpose", "Plan"],
      skills: [],
      plugins: [],
      capabilities: CAPABILITIES,
      uuid: crypto.randomUUID(),
      memory_paths: { auto: `${configDir()}/projects/${sanitize(this.cwd)}/memory/` },
      original_cwd: this.cwd,
      additional_directories: [],
      fast_mode_state: "off",
      view_mode: "default",
    };
  }

  /** `system/init`, then (with `--replay-user-messages`, once per turn) the turn's echo. */
  async emitInit(turn: Turn): Promise<void> {
    await this.emit(this.initMessage());
    if (!this.replay || turn.replayed || turn.content === undefined) return;
    turn.replayed = true;
    await this.emit({
      type: "user",
      message: { role: "user", content: turn.content },
      session_id: this.sessionId,
      parent_tool_use_id: null,
      uuid: turn.uuid ?? crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      isReplay: true,
    });
  }

  mcpServers(): { name: string; status: string; source: string }[] {
    const raw = this.flag("--mcp-config");
    if (!raw) return [];
    let config: unknown;
    try {
      config = JSON.parse(raw);
    } catch {
      try {
        config = JSON.parse(Deno.readTextFileSync(raw));
      } catch {
        return [];
      }
    }
    const servers = isRecord(config) && isRecord(config.mcpServers) ? config.mcpServers : {};
    return Object.keys(servers).map((name) => ({ name, status: "connected", source: "config" }));
  }

  assistant(content: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
    return {
      type: "assistant",
      message: {
        id: this.nextMessageId(),
        type: "message",
        role: "assistant",
        model: this.model,
        content,
        stop_reason: null,
        stop_sequence: null,
        usage: usage(12, 1),
        context_management: null,
      },
      parent_tool_use_id: null,
      session_id: this.sessionId,
      uuid: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      request_id: `req_fake_${this.#messageCounter}`,
      ...extra,
    };
  }

  async emitResult(turn: Turn, overrides: FakeResultOverrides = {}): Promise<void> {
    const { cost, total_cost_usd, ...rest } = overrides;
    const isError = overrides.is_error ?? false;
    const turnUsage = overrides.usage ?? usage(12, 6);
    const turnCost = cost ?? DEFAULT_COST;
    this.totalCost = total_cost_usd ?? this.totalCost + turnCost;
    const delta = this.#addModelUsage(turnUsage, turnCost);
    const elapsed = Math.round(performance.now() - turn.started);
    const result: Record<string, unknown> = {
      duration_api_ms: elapsed,
      stop_reason: isError ? null : "end_turn",
      session_id: this.sessionId,
      total_cost_usd: this.totalCost,
      usage: turnUsage,
      modelUsage: structuredClone(this.modelUsage),
      permission_denials: [],
      terminal_reason: isError ? "api_error" : "completed",
      is_error: isError,
      num_turns: 1,
      subtype: "success",
      api_error_status: null,
      result: turn.lastText,
      type: "result",
      duration_ms: elapsed,
      uuid: crypto.randomUUID(),
      queued_turn_count: this.queue.length,
      result_index: this.resultIndex++,
      model_usage_since_last_result: { [this.model]: delta },
    };
    Object.assign(result, rest);
    turn.resultEmitted = true;
    this.lastResultIsError = result.is_error === true;
    await this.emit(result);
  }

  #addModelUsage(u: Record<string, unknown>, cost: number): Record<string, unknown> {
    const n = (k: string) => (typeof u[k] === "number" ? u[k] as number : 0);
    const delta = {
      inputTokens: n("input_tokens"),
      outputTokens: n("output_tokens"),
      cacheReadInputTokens: n("cache_read_input_tokens"),
      cacheCreationInputTokens: n("cache_creation_input_tokens"),
      webSearchRequests: 0,
      costUSD: cost,
      contextWindow: 200000,
      maxOutputTokens: 32000,
      canonicalModel: this.model,
      provider: "firstParty",
      costBasis: "list",
    };
    const sum = this.modelUsage[this.model];
    if (!sum) {
      this.modelUsage[this.model] = { ...delta };
    } else {
      for (
        const k of [
          "inputTokens",
          "outputTokens",
          "cacheReadInputTokens",
          "cacheCreationInputTokens",
          "costUSD",
        ] as const
      ) {
        sum[k] = (sum[k] as number) + delta[k];
      }
    }
    return delta;
  }

  // ---- stdin ----------------------------------------------------------------------------------

  async readStdin(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of Deno.stdin.readable) {
        const text = decoder.decode(chunk, { stream: true });
        if (!text.includes("\n")) {
          buffer += text; // only the new chunk is scanned: no quadratic rescans
          continue;
        }
        const parts = (buffer + text).split("\n");
        buffer = parts.pop()!;
        for (const line of parts) this.onLine(line);
      }
    } catch {
      // stdin closed under us: treat as EOF
    }
    buffer += decoder.decode();
    if (buffer.length > 0) this.onLine(buffer);
    this.stdinClosed = true;
    for (const wake of this.#stdinClosedWaiters.splice(0)) wake();
    this.pump();
  }

  waitStdinClosed(signal: AbortSignal): Promise<void> {
    if (this.stdinClosed) return Promise.resolve();
    return abortable(new Promise((resolve) => this.#stdinClosedWaiters.push(resolve)), signal);
  }

  onLine(rawLine: string): void {
    if (this.#finishing) return;
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === "") return;
    this.stdinLines.push(line);
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.#finishing = true;
      this.err.write(
        `Error parsing streaming input line (type=unknown, ${line.length} chars): SyntaxError\n`,
      );
      void Promise.all([this.out.flush(), this.err.flush()]).then(() => Deno.exit(1));
      return;
    }
    if (!isRecord(message)) return;
    if (message.type === "control_request") return void this.onControl(message);
    if (message.type === "control_response") {
      const response = isRecord(message.response) ? message.response : {};
      const ask = this.#asks.get(String(response.request_id));
      this.#asks.delete(String(response.request_id));
      return void ask?.(response);
    }
    if (message.type !== "user" || message.shouldQuery === false) return;
    const inner = isRecord(message.message) ? message.message : {};
    const text = promptText(inner.content);
    if (text === undefined) return;
    const uuid = typeof message.uuid === "string" ? message.uuid : undefined;
    this.enqueue(text, uuid, inner.content);
  }

  enqueue(text: string, uuid?: string, content?: unknown): void {
    const turn: Turn = {
      text,
      uuid,
      content,
      replayed: false,
      started: 0,
      abort: new AbortController(),
      resultEmitted: false,
      lastText: "",
    };
    this.queue.push(turn);
    if (uuid) this.lifecycle(uuid, "queued");
    this.pump();
  }

  lifecycle(uuid: string, state: string): Promise<void> {
    return this.emit({
      type: "command_lifecycle",
      command_uuid: uuid,
      state,
      uuid: crypto.randomUUID(),
      session_id: this.sessionId,
    });
  }

  async onControl(message: Record<string, unknown>): Promise<void> {
    const requestId = message.request_id;
    const request = isRecord(message.request) ? message.request : {};
    const ok = (response?: Record<string, unknown>) =>
      this.emit({
        type: "control_response",
        response: {
          subtype: "success",
          request_id: requestId,
          ...(response ? { response } : {}),
        },
      });
    const fail = (error: string, code: string) =>
      this.emit({
        type: "control_response",
        response: { subtype: "error", request_id: requestId, error, error_code: code },
      });
    switch (request.subtype) {
      case "initialize":
        return void await ok({
          commands: [],
          agents: [],
          output_style: "default",
          available_output_styles: ["default"],
          models: Object.entries(MODEL_ALIASES).map(([value, resolvedModel]) => ({
            value,
            resolvedModel,
            displayName: value,
            supportsEffort: true,
            supportedEffortLevels: EFFORTS,
          })),
          account: {
            tokenSource: "none",
            apiKeySource: Deno.env.get("ANTHROPIC_API_KEY") ? "ANTHROPIC_API_KEY" : "none",
            apiProvider: "firstParty",
          },
          pid: Deno.pid,
          claude_code_version: VERSION,
          current_permission_mode: this.permissionMode,
          hooks_applied: true,
          session_state: this.current ? "running" : "idle",
          capabilities: CAPABILITIES,
        });
      case "interrupt": {
        if (request.cancel_queued === true) {
          for (const t of this.queue.splice(0)) {
            if (t.uuid) void this.lifecycle(t.uuid, "cancelled");
          }
        }
        await ok({ still_queued: this.queue.map((t) => t.uuid).filter(Boolean) });
        this.current?.abort.abort(new Interrupted());
        return;
      }
      case "set_permission_mode": {
        const mode = String(request.mode);
        if (!PERMISSION_MODES.includes(mode)) {
          return void await fail(`Invalid permission mode: ${mode}`, "invalid_mode");
        }
        this.permissionMode = mode;
        return void await ok({ mode });
      }
      case "set_model": {
        const model = String(request.model ?? "default");
        this.model = MODEL_ALIASES[model] ?? model;
        return void await ok({ model: this.model });
      }
      case "set_max_thinking_tokens":
        return void await ok();
      case "get_binary_version":
        return void await ok({
          version: VERSION,
          buildTime: "2026-01-01T00:00:00Z",
          oldestDesktopSdk: "0.3.280",
        });
      case "get_session_cost":
        return void await ok({ text: `Estimated cost: $${this.totalCost.toFixed(4)}\n` });
      case "mcp_status":
        return void await ok({ mcpServers: this.mcpServers() });
      default:
        return void await fail(
          `Unsupported control request subtype: ${String(request.subtype)}`,
          "unsupported_request",
        );
    }
  }

  // ---- turns ----------------------------------------------------------------------------------

  pump(): void {
    if (this.current || this.#finishing) return;
    const next = this.queue.shift();
    if (next) {
      this.current = next;
      void this.runTurn(next).finally(() => {
        this.current = undefined;
        if (this.exitAfterTurn !== undefined) return void this.finish(this.exitAfterTurn);
        this.pump();
      });
      return;
    }
    if (this.stdinClosed) {
      void this.finish(this.exitOverride ?? (this.lastResultIsError ? 1 : 0));
    }
  }

  async finish(code: number): Promise<never> {
    this.#finishing = true;
    await Promise.all([this.out.flush(), this.err.flush()]);
    Deno.exit(code);
  }

  async runTurn(turn: Turn): Promise<void> {
    turn.started = performance.now();
    const signal = turn.abort.signal;
    if (turn.uuid) await this.lifecycle(turn.uuid, "started");
    try {
      const scenario = loadScenario(turn.text);
      if (scenario === undefined) {
        await this.emitInit(turn);
        turn.lastText = turn.text;
        await this.emit(this.assistant([{ type: "text", text: turn.text }]));
        await this.emitResult(turn);
      } else {
        if (scenario.exitCode !== undefined) this.exitOverride = scenario.exitCode;
        if (scenario.auto) await this.emitInit(turn);
        for (const step of scenario.steps) {
          if (signal.aborted) throw signal.reason;
          await this.runStep(turn, step, signal);
        }
        if (scenario.auto && !turn.resultEmitted) await this.emitResult(turn);
      }
      if (turn.uuid) await this.lifecycle(turn.uuid, "completed");
    } catch (error) {
      if (error instanceof Interrupted) {
        await this.emitResult(turn, {
          is_error: true,
          subtype: "error_during_execution",
          terminal_reason: "aborted_streaming",
          stop_reason: null,
          result: null,
          num_turns: 1,
          usage: usage(0, 0),
          cost: 0,
          errors: ["[ede_diagnostic] fake claude: turn interrupted"],
        });
        if (turn.uuid) await this.lifecycle(turn.uuid, "cancelled");
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      await this.err.write(`fake claude: ${message}\n`);
      await this.emitResult(turn, {
        is_error: true,
        result: `fake claude: ${message}`,
        terminal_reason: "fake_error",
      });
    }
  }

  /** A tool call that needs permission: asks on stdout, runs or refuses on the answer. */
  async ask(spec: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    const tool = typeof spec.tool === "string" ? spec.tool : "Write";
    const input = isRecord(spec.input) ? spec.input : {};
    const toolUseId = typeof spec.id === "string" ? spec.id : `toolu_fake_${crypto.randomUUID()}`;
    await this.emit(this.assistant([{ type: "tool_use", id: toolUseId, name: tool, input }]));
    const requestId = crypto.randomUUID();
    const answered = new Promise<Record<string, unknown>>((r) => this.#asks.set(requestId, r));
    await this.emit({
      type: "control_request",
      request_id: requestId,
      request: {
        subtype: "can_use_tool",
        tool_name: tool,
        display_name: tool,
        input,
        description: typeof spec.description === "string" ? spec.description : tool,
        permission_suggestions: Array.isArray(spec.suggestions)
          ? spec.suggestions
          : [{ type: "setMode", mode: "acceptEdits", destination: "session" }],
        tool_use_id: toolUseId,
      },
    });
    let response: Record<string, unknown>;
    try {
      response = await abortable(answered, signal);
    } catch (err) {
      this.#asks.delete(requestId);
      await this.emit({ type: "control_cancel_request", request_id: requestId });
      throw err;
    }
    const body = isRecord(response.response) ? response.response : {};
    let content = String(body.message ?? "Denied");
    let isError = true;
    if (response.subtype === "success" && body.behavior === "allow") {
      const used = isRecord(body.updatedInput) ? body.updatedInput : input;
      content = "ok";
      if (tool === "Write" && typeof used.file_path === "string") {
        await Deno.writeTextFile(used.file_path, String(used.content ?? ""));
        content = `File created successfully at: ${used.file_path}`;
      }
      isError = false;
    }
    await this.emit({
      type: "user",
      message: {
        role: "user",
        content: [{ tool_use_id: toolUseId, type: "tool_result", content, is_error: isError }],
      },
      parent_tool_use_id: null,
      session_id: this.sessionId,
      uuid: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
    });
  }

  async runStep(turn: Turn, step: FakeStep, signal: AbortSignal): Promise<void> {
    const s = step as Record<string, unknown>;
    if ("repeat" in s) return await this.repeatLine(s.line, num(s.repeat, "repeat"), signal);
    if ("line" in s) return void await this.out.write(this.lineText(s.line) + "\n");
    if ("init" in s) return await this.emitInit(turn);
    if ("text" in s) {
      turn.lastText = String(s.text);
      return void await this.emit(this.assistant([{ type: "text", text: turn.lastText }]));
    }
    if ("toolUse" in s) {
      const t = isRecord(s.toolUse) ? s.toolUse : {};
      return void await this.emit(this.assistant([{
        type: "tool_use",
        id: typeof t.id === "string" ? t.id : `toolu_fake_${this.#messageCounter + 1}`,
        name: String(t.name ?? "Bash"),
        input: isRecord(t.input) ? t.input : {},
      }]));
    }
    if ("ask" in s) return await this.ask(isRecord(s.ask) ? s.ask : {}, signal);
    if ("toolResult" in s) {
      return void await this.emit({
        type: "user",
        message: {
          role: "user",
          content: [{
            tool_use_id: String(s.toolUseId ?? `toolu_fake_${this.#messageCounter}`),
            type: "tool_result",
            content: String(s.toolResult),
            is_error: s.isError === true,
          }],
        },
        parent_tool_use_id: null,
        session_id: this.sessionId,
        uuid: crypto.randomUUID(),
        timestamp: new Date().toISOString(),
      });
    }
    if ("result" in s) {
      return await this.emitResult(turn, isRecord(s.result) ? s.result as FakeResultOverrides : {});
    }
    if ("apiError" in s) {
      const e = isRecord(s.apiError) ? s.apiError : { status: s.apiError };
      return await this.apiError(turn, num(e.status, "apiError.status"), e.message);
    }
    if ("lines" in s) {
      return await this.numberedLines(num(s.lines, "lines"), num(s.bytes ?? 0, "bytes"), signal);
    }
    if ("bigLine" in s) return await this.out.write(this.bigLine(num(s.bigLine, "bigLine")));
    if ("noNewlineBytes" in s) {
      return await writeFilled(this.out, num(s.noNewlineBytes, "noNewlineBytes"), "a", signal);
    }
    if ("raw" in s) {
      return await this.out.write(Uint8Array.from(atob(String(s.raw)), (c) => c.charCodeAt(0)));
    }
    if ("stderr" in s) {
      if (typeof s.stderr === "string") return await this.err.write(s.stderr);
      return await writeStderrLines(this.err, num(s.stderr, "stderr"), signal);
    }
    if ("sleep" in s) return await sleep(num(s.sleep, "sleep"), signal);
    if ("spawn" in s) return await spawnDetached(String(s.spawn), s.newSession === true, s.pidFile);
    if ("spawnWait" in s) {
      await new Deno.Command("sh", {
        args: ["-c", String(s.spawnWait)],
        stdin: "null",
        stdout: "null",
        stderr: "null",
        signal,
      }).output();
      if (signal.aborted) throw signal.reason;
      return;
    }
    if ("ignoreSigterm" in s) return void (this.ignoreSigterm = s.ignoreSigterm !== false);
    if ("stop" in s) {
      await Promise.all([this.out.flush(), this.err.flush()]);
      return Deno.kill(Deno.pid, "SIGSTOP");
    }
    if ("exit" in s) return await this.finish(num(s.exit, "exit"));
    if ("hang" in s) return await hang(signal);
    if ("record" in s) return await this.record(String(s.record));
    if ("rateLimitRejected" in s) {
      const r = isRecord(s.rateLimitRejected) ? s.rateLimitRejected : {};
      const resetsAt = typeof r.resetsAt === "number"
        ? r.resetsAt
        : Math.floor(Date.now() / 1000) + 3600;
      const type = typeof r.rateLimitType === "string" ? r.rateLimitType : "five_hour";
      await this.emit({
        type: "rate_limit_event",
        rate_limit_info: {
          status: "rejected",
          resetsAt,
          rateLimitType: type,
          isUsingOverage: false,
          unifiedWindows: { [type]: { utilization: 1, resetsAt, status: "rejected" } },
        },
        uuid: crypto.randomUUID(),
        session_id: this.sessionId,
      });
      if (r.thenResult !== true) return await hang(signal);
      const reset = new Date(resetsAt * 1000);
      const hour = reset.getUTCHours();
      const when = `${hour % 12 || 12}:${String(reset.getUTCMinutes()).padStart(2, "0")}${
        hour < 12 ? "am" : "pm"
      }`;
      return await this.apiError(
        turn,
        429,
        `You've hit your 5-hour limit · resets ${when} (UTC)`,
      );
    }
    if ("waitStdinClose" in s) return await this.waitStdinClosed(signal);
    if ("closeStdout" in s) {
      await this.out.close();
      return closeStdoutFd();
    }
    throw new TypeError(`Cannot run scenario step ${JSON.stringify(step)}: unknown step`);
  }

  lineText(line: unknown): string {
    const text = typeof line === "string" ? line : JSON.stringify(line);
    return text.replaceAll("{{session_id}}", this.sessionId);
  }

  async repeatLine(line: unknown, count: number, signal: AbortSignal): Promise<void> {
    const parts = (this.lineText(line) + "\n").split("{{i}}");
    await this.batched(count, (i) => parts.join(String(i)), signal);
  }

  /** Writes `count` generated lines, ~1 MiB per write. */
  async batched(count: number, make: (i: number) => string, signal: AbortSignal): Promise<void> {
    let batch: string[] = [];
    let size = 0;
    for (let i = 0; i < count; i++) {
      const line = make(i);
      batch.push(line);
      size += line.length;
      if (size >= 1 << 20) {
        await this.out.write(batch.join(""));
        if (signal.aborted) throw signal.reason;
        batch = [];
        size = 0;
      }
    }
    if (batch.length) await this.out.write(batch.join(""));
  }

  /**
   * `count` assistant lines `line <i> xxx…` with `"index": i`, each padded to `bytes`. Full realistic
   * shape when it fits in `bytes` (~520 bytes minimum), else a compact one (~230 bytes minimum).
   */
  async numberedLines(count: number, bytes: number, signal: AbortSignal): Promise<void> {
    const id = this.nextMessageId();
    const sid = JSON.stringify(this.sessionId);
    const model = JSON.stringify(this.model);
    const full: [string, string, string, string] = [
      `{"type":"assistant","message":{"id":"${id}_`,
      `","type":"message","role":"assistant","model":${model},"content":[{"type":"text","text":"line `,
      `"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1},"context_management":null},"parent_tool_use_id":null,"session_id":${sid},"uuid":"`,
      `","timestamp":"${new Date().toISOString()}","index":`,
    ];
    const compact: [string, string, string, string] = [
      `{"type":"assistant","message":{"id":"${id}_`,
      `","role":"assistant","content":[{"type":"text","text":"line `,
      `"}]},"session_id":${sid},"uuid":"`,
      `","index":`,
    ];
    const fixedOf = (t: string[], digits: number) =>
      t.reduce((n, part) => n + part.length, 0) + 3 * digits + 1 + 36 + 1;
    const pads = new Map<number, string>();
    await this.batched(count, (i) => {
      const idx = String(i);
      const fullSize = fixedOf(full, idx.length);
      const [head, mid, tail1, tail2] = fullSize <= bytes ? full : compact;
      const fixed = fullSize <= bytes ? fullSize : fixedOf(compact, idx.length);
      const padLength = Math.max(0, bytes - fixed);
      let pad = pads.get(padLength);
      if (pad === undefined) pads.set(padLength, pad = "x".repeat(padLength));
      return `${head}${idx}${mid}${idx} ${pad}${tail1}${crypto.randomUUID()}${tail2}${idx}}\n`;
    }, signal);
  }

  bigLine(bytes: number): Uint8Array {
    const head = encoder.encode(
      `{"type":"assistant","message":{"id":"${this.nextMessageId()}","type":"message","role":"assistant","model":${
        JSON.stringify(this.model)
      },"content":[{"type":"text","text":"`,
    );
    const tail = encoder.encode(
      `"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}},"parent_tool_use_id":null,"session_id":"${this.sessionId}","uuid":"${crypto.randomUUID()}"}\n`,
    );
    const line = new Uint8Array(bytes + 1);
    if (bytes < head.length + tail.length - 1) {
      line.fill(0x31, 0, bytes); // "111…": still valid JSON (a number)
      line[bytes] = 0x0a;
      return line;
    }
    line.set(head, 0);
    line.fill(0x78, head.length, bytes + 1 - tail.length); // "x"
    line.set(tail, bytes + 1 - tail.length);
    return line;
  }

  async apiError(turn: Turn, status: number, message?: unknown): Promise<void> {
    const [category, fallback] = apiErrorText(status);
    const text = typeof message === "string" ? message : fallback;
    await this.emit({
      ...this.assistant([{ type: "text", text }]),
      error: category,
      is_api_error_message: true,
      api_error_status: status,
    });
    turn.lastText = text;
    await this.emitResult(turn, {
      is_error: true,
      api_error_status: status,
      result: text,
      usage: usage(0, 0),
      cost: 0,
      num_turns: 1,
    });
  }

  async record(path: string): Promise<void> {
    const data = {
      argv: Deno.args,
      env: Deno.env.toObject(),
      cwd: this.cwd,
      pid: Deno.pid,
      ppid: Deno.ppid,
      stdinLines: [...this.stdinLines],
    };
    const tmp = `${path}.${Deno.pid}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(data, null, 2));
    await Deno.rename(tmp, path);
  }
}

// ---- small helpers ----------------------------------------------------------------------------

function usage(input: number, output: number): Record<string, unknown> {
  return {
    input_tokens: input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: output,
  };
}

function apiErrorText(status: number): [string, string] {
  if (status === 401) return ["authentication_failed", "Invalid API key · Fix external API key"];
  if (status === 403) {
    return ["authentication_failed", "Failed to authenticate. API Error: 403 unknown proxy token"];
  }
  if (status === 429) return ["rate_limit", "API Error: Request rejected (429) · Rate limited"];
  if (status === 529) return ["overloaded", "API Error: 529 Overloaded."];
  if (status >= 500) {
    return [
      "server_error",
      `API Error: ${status} Internal server error. This is a server-side issue, usually temporary — try again in a moment.`,
    ];
  }
  return ["unknown", `API Error: ${status}`];
}

function promptText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content.flatMap((b) =>
    isRecord(b) && b.type === "text" && typeof b.text === "string" ? [b.text] : []
  );
  return texts.length ? texts.join("\n") : undefined;
}

/** A CLI stuck retrying an upstream that never answers; only a tree kill ends it and its child. */
export const STUCK_UPSTREAM: FakeScenario = {
  steps: [
    { init: true },
    { ignoreSigterm: true },
    { spawn: "exec sleep 600", newSession: true },
    {
      line: {
        type: "system",
        subtype: "api_retry",
        attempt: 1,
        max_retries: 10,
        retry_delay_ms: 500,
        error_status: null,
        error: "unknown",
        session_id: "{{session_id}}",
      },
    },
    { hang: true },
  ],
};

function loadScenario(text: string): FakeScenario | undefined {
  const trimmed = text.trimStart();
  let json: string;
  const scripted = trimmed.startsWith("FAKE:") || trimmed.startsWith("FAKE_FILE:");
  if (!scripted && text.includes("FAKE_STUCK_UPSTREAM")) return STUCK_UPSTREAM;
  if (trimmed.startsWith("FAKE_FILE:")) {
    const path = trimmed.slice("FAKE_FILE:".length).trim();
    try {
      json = Deno.readTextFileSync(path);
    } catch (error) {
      throw new Error(`Cannot read scenario file ${path}: ${String(error)}`);
    }
  } else if (trimmed.startsWith("FAKE:")) {
    json = trimmed.slice("FAKE:".length);
  } else {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`Cannot parse scenario: ${String(error)}`);
  }
  if (Array.isArray(parsed)) return { steps: parsed };
  if (!isRecord(parsed) || !Array.isArray(parsed.steps)) {
    throw new Error('Cannot parse scenario: expected {"steps":[…]}');
  }
  return parsed as unknown as FakeScenario;
}

/**
 * Closes fd 1 and every duplicate of it (Deno keeps one for `Deno.stdout`, which `close()` leaves
 * open), so the reading end sees EOF while this process lives on.
 */
function closeStdoutFd(): void {
  const target = Deno.readLinkSync("/proc/self/fd/1");
  const fds: number[] = [];
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      const fd = Number(entry.name);
      // Never stdin or stderr, even when they share stdout's target (e.g. /dev/null).
      if (fd !== 0 && fd !== 2 && Deno.readLinkSync(`/proc/self/fd/${fd}`) === target) {
        fds.push(fd);
      }
    } catch {
      // the fd of the directory listing itself, already gone
    }
  }
  const libc = Deno.dlopen("libc.so.6", { close: { parameters: ["i32"], result: "i32" } });
  for (const fd of fds) libc.symbols.close(fd);
  libc.close();
}

function num(value: unknown, name: string): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`Cannot run step: ${name} is not a number`);
  return n;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sanitize(path: string): string {
  return path.replace(/[^a-zA-Z0-9]/g, "-");
}

function configDir(): string {
  return Deno.env.get("CLAUDE_CONFIG_DIR") ?? `${Deno.env.get("HOME") ?? ""}/.claude`;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return abortable(new Promise<void>((resolve) => timer = setTimeout(resolve, ms)), signal)
    .finally(() => clearTimeout(timer));
}

/** Never resolves unless aborted; keeps the event loop alive meanwhile. */
function hang(signal: AbortSignal): Promise<void> {
  const keepAlive = setInterval(() => {}, 1 << 30);
  return abortable(new Promise<void>(() => {}), signal).finally(() => clearInterval(keepAlive));
}

async function writeFilled(sink: Sink, bytes: number, char: string, signal: AbortSignal) {
  const chunk = encoder.encode(char.repeat(Math.min(bytes, 64 * 1024)));
  for (let left = bytes; left > 0; left -= chunk.length) {
    await sink.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    if (signal.aborted) throw signal.reason;
  }
}

async function writeStderrLines(sink: Sink, bytes: number, signal: AbortSignal) {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 1 << 20; i++) {
    const line = `fake stderr line ${String(i).padStart(8, "0")} ${"e".repeat(70)}\n`;
    lines.push(line);
    size += line.length;
  }
  const chunk = encoder.encode(lines.join(""));
  for (let left = bytes; left > 0; left -= chunk.length) {
    await sink.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    if (signal.aborted) throw signal.reason;
  }
}

async function spawnDetached(command: string, newSession: boolean, pidFile: unknown) {
  const [cmd, args] = newSession ? ["setsid", ["sh", "-c", command]] : ["sh", ["-c", command]];
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  child.status.catch(() => {});
  if (typeof pidFile === "string") await Deno.writeTextFile(pidFile, String(child.pid));
}

// ---- entry point ------------------------------------------------------------------------------

function authStatus(args: Args): never {
  const env = Deno.env.toObject();
  const dir = configDir();
  let status: Record<string, unknown>;
  let hasCredentials = false;
  try {
    hasCredentials = Deno.statSync(`${dir}/.credentials.json`).isFile;
  } catch {
    // absent
  }
  if (env.ANTHROPIC_API_KEY) {
    status = {
      loggedIn: true,
      authMethod: "api_key",
      apiKeySource: "ANTHROPIC_API_KEY",
      apiProvider: "firstParty",
    };
  } else if (env.ANTHROPIC_AUTH_TOKEN || env.CLAUDE_CODE_OAUTH_TOKEN) {
    status = { loggedIn: true, authMethod: "oauth_token", apiProvider: "firstParty" };
  } else if (hasCredentials) {
    status = {
      loggedIn: true,
      authMethod: "claude.ai",
      apiProvider: "firstParty",
      subscriptionType: "max",
      storedClaudeAiLogin: true,
      planTier: "max_other",
    };
  } else {
    status = { loggedIn: false, authMethod: "none", apiProvider: "firstParty" };
  }
  Object.assign(status, {
    analyticsDisabled: false,
    projectsDirectory: `${dir}/projects`,
    configDirectory: dir,
    loginExpiresAt: null,
  });
  if (args.flags.has("--text")) {
    console.log(status.loggedIn ? `Logged in (${status.authMethod})` : "Not logged in");
  } else {
    console.log(JSON.stringify(status));
  }
  Deno.exit(status.loggedIn ? 0 : 1);
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.flags.has("--version") || args.flags.has("-v")) {
    console.log(`${VERSION} (Claude Code)`);
    Deno.exit(0);
  }
  const [command, sub] = args.positional;
  const print = args.flags.has("-p") || args.flags.has("--print");
  if (!print && command === "auth" && sub === "status") authStatus(args);
  if (!print && command === "auth" && sub === "login") {
    console.log("Opening browser to sign in…\nhttps://claude.ai/oauth/authorize?fake=1");
    await hang(new AbortController().signal);
  }
  if (!print && command === "doctor") {
    console.log(
      `Diagnostics\n └ Currently running: fake (${VERSION})\n └ Not signed in to claude.ai`,
    );
    Deno.exit(0);
  }

  const fake = new FakeClaude(args);
  if (
    fake.permissionMode === "bypassPermissions" && Deno.uid() === 0 &&
    Deno.env.get("IS_SANDBOX") !== "1"
  ) {
    console.error(
      "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons",
    );
    Deno.exit(1);
  }
  const effort = fake.flag("--effort");
  if (effort !== undefined && !EFFORTS.includes(effort)) {
    console.error(
      `Warning: Unknown --effort value '${effort}' — ignoring it and using the default effort. Valid values: ${
        EFFORTS.join(", ")
      }.`,
    );
  }
  if (
    fake.outputFormat === "stream-json" && !args.flags.has("--verbose") &&
    (print || fake.flag("--input-format") !== "stream-json")
  ) {
    console.error(
      "Error: When using --print, --output-format=stream-json requires --verbose",
    );
    Deno.exit(1);
  }

  Deno.addSignalListener("SIGTERM", () => {
    if (!fake.ignoreSigterm) Deno.exit(143);
  });
  Deno.addSignalListener("SIGINT", () => {
    const turn = fake.current;
    if (!turn) return void fake.finish(0);
    // The turn emits its error result; pump() exits once it is written.
    fake.exitAfterTurn = 0;
    turn.abort.abort(new Interrupted());
  });

  const prompt = args.positional.join(" ");
  if (print && prompt && fake.flag("--input-format") !== "stream-json") {
    fake.stdinClosed = true;
    fake.enqueue(prompt);
    return;
  }
  await fake.readStdin();
}

if (import.meta.main) await main(Deno.args);
