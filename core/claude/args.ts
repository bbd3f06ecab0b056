import type { Effort } from "../models/mod.ts";

export type PermissionMode = "bypassPermissions" | "plan" | "default";

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
  if (options.resume) args.push("--resume", options.resume);
  if (options.resume && options.fork) {
    args.push("--fork-session");
    if (options.forkAt) args.push("--resume-session-at", options.forkAt);
  }
  if (options.mcpConfigPath) args.push("--mcp-config", options.mcpConfigPath);
  if (options.appendSystemPrompt) args.push("--append-system-prompt", options.appendSystemPrompt);
  if (options.bare) args.push("--tools", "", "--strict-mcp-config", "--setting-sources", "");
  return args;
}

/** One stream-json user message (an object; the run writes it as one line). */
export function userMessage(text: string): Record<string, unknown> {
  return {
    type: "user",
    session_id: "",
    message: { role: "user", content: [{ type: "text", text }] },
    parent_tool_use_id: null,
  };
}

/** One stream-json user message, exactly one line, as the CLI expects on stdin. */
export function userMessageLine(text: string): string {
  return JSON.stringify(userMessage(text)) + "\n";
}
