import type { Effort } from "../models/mod.ts";

export type PermissionMode = "bypassPermissions" | "plan" | "default" | "acceptEdits";

/** The permission modes the CLI's `set_permission_mode` control request accepts (2.1.328). */
export const CLI_PERMISSION_MODES = [
  "default",
  "acceptEdits",
  "bypassPermissions",
  "plan",
  "dontAsk",
  "auto",
] as const;
export type CliPermissionMode = typeof CLI_PERMISSION_MODES[number];

export interface ClaudeArgsOptions {
  model: string;
  effort: Effort;
  permissionMode: PermissionMode;
  /** Session id to continue (`--resume`); null for a fresh session. */
  resume?: string | null;
  /** With `resume`: continue under a new session id (`--fork-session`). */
  fork?: boolean;
  /**
   * With `fork`: keep only the chain up to and including this entry uuid (`--resume-session-at`,
   * a hidden flag of the pinned CLI).
   */
  forkAt?: string | null;
  /** Path of an MCP config file (`--mcp-config`). */
  mcpConfigPath?: string | null;
  /** Supervisor-chosen text appended to the system prompt (`--append-system-prompt`). */
  appendSystemPrompt?: string | null;
  /**
   * A tool-less, settings-less run (shadows): `--tools ""` (no built-in tools at all),
   * `--strict-mcp-config` (no MCP servers from settings) and `--setting-sources ""` (no user or
   * project settings, so no hooks a repository could plant).
   */
  bare?: boolean;
  /**
   * Permission prompts come to the supervisor as `can_use_tool` control requests
   * (`--permission-prompt-tool stdio`) instead of being denied: an agent not in bypass mode.
   */
  permissionPrompts?: boolean;
}

/**
 * The argv for one claude process. Only supervisor-chosen values appear here: the prompt never
 * does (it goes in on stdin), so no user text can be parsed as an option.
 */
export function buildClaudeArgs(options: ClaudeArgsOptions): string[] {
  const args = [
    "--output-format",
    "stream-json",
    "--verbose",
    "--input-format",
    "stream-json",
    // The CLI does not otherwise print what it read on stdin: with this, every prompt (first and
    // follow-up) comes back as an `isReplay` user line and so lands in the stored transcript.
    // Shadows too: their transcript then shows exactly what was sent to the model on their behalf.
    "--replay-user-messages",
    "--model",
    options.model,
    "--permission-mode",
    options.permissionMode,
  ];
  // `--effort none` does not exist in the CLI: "none" is expressed through the environment.
  if (options.effort !== "none") args.push("--effort", options.effort);
  if (options.permissionPrompts) args.push("--permission-prompt-tool", "stdio");
  if (options.resume) args.push("--resume", options.resume);
  if (options.resume && options.fork) {
    args.push("--fork-session");
    if (options.forkAt) args.push("--resume-session-at", options.forkAt);
  }
  if (options.mcpConfigPath) args.push("--mcp-config", options.mcpConfigPath);
  if (options.appendSystemPrompt) args.push("--append-system-prompt", options.appendSystemPrompt);
  if (options.bare) args.push("--tools", "", "--strict-mcp-config", "--setting-sources", "");
  // Live text: the deltas are shown as the model writes them, never stored (shadows need none).
  else args.push("--include-partial-messages");
  return args;
}

/**
 * One stream-json user message (an object; the run writes it as one line). A `uuid` makes the CLI
 * report the message's `command_lifecycle` (`queued` → `started` → `completed`/`cancelled`).
 */
/**
 * When the CLI (2.1.328) takes a message written while a turn runs: `next` (also the default) at
 * the turn's next tool boundary, appended to the tool results of the same API request; `later`
 * after the turn, as its own turn; `now` aborts the running turn first.
 */
export type UserMessagePriority = "now" | "next" | "later";

export function userMessage(
  text: string,
  uuid?: string,
  priority?: UserMessagePriority,
): Record<string, unknown> {
  return {
    type: "user",
    session_id: "",
    message: { role: "user", content: [{ type: "text", text }] },
    parent_tool_use_id: null,
    ...(uuid ? { uuid } : {}),
    ...(priority ? { priority } : {}),
  };
}

/** One stream-json user message, exactly one line, as the CLI expects on stdin. */
export function userMessageLine(text: string): string {
  return stdinLine(userMessage(text));
}

/**
 * The one way to turn a message into a stdin line: a plain JSON object, serialised, plus exactly
 * one "\n". Anything else is refused, because one malformed line kills the CLI (exit 1).
 */
export function stdinLine(message: unknown): string {
  if (
    message === null || typeof message !== "object" || Array.isArray(message) ||
    Object.getPrototypeOf(message) !== Object.prototype
  ) {
    throw new TypeError("Cannot write to claude: only a plain JSON object may go to its stdin");
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(message);
  } catch (err) {
    throw new TypeError(`Cannot write to claude: the message is not JSON (${String(err)})`);
  }
  // JSON.stringify escapes every newline, so this is exactly one line.
  return json + "\n";
}

/** Refuses (throws) a stdin line that is not exactly one JSON object followed by one "\n". */
export function assertStdinLine(line: string): void {
  const body = line.endsWith("\n") ? line.slice(0, -1) : null;
  if (body === null || body.includes("\n") || body.includes("\r")) {
    throw new TypeError('Cannot write to claude: a stdin line must be one line ending in "\\n"');
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new TypeError("Cannot write to claude: a stdin line must be JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError("Cannot write to claude: a stdin line must be one JSON object");
  }
}
