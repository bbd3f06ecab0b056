import type { Effort } from "../models/mod.ts";
import type { ClaudeSettings, Env } from "../config/mod.ts";

/** Variables passed to claude by name when the daemon has them. */
export const CHILD_ENV_NAMES: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TERM",
  "TZ",
  "TMPDIR",
  "SHELL",
  "IS_SANDBOX",
  "CLAUDE_CONFIG_DIR",
];

/** Prefixes passed through: the CLI's own configuration. */
export const CHILD_ENV_PREFIXES: readonly string[] = ["ANTHROPIC_", "CLAUDE_CODE_"];

/** Name of the ownership marker every claude child and its descendants inherit. */
export const AGENT_MARKER_VAR = "HERO_ORCHESTRATOR_AGENT";

export interface ChildEnvOptions {
  daemonEnv: Env;
  settings: Pick<
    ClaudeSettings,
    "maxRetries" | "apiTimeoutMs" | "streamIdleTimeoutMs" | "extraEnv"
  >;
  effort: Effort;
  /** `<agent id>.<random>`; see AGENTS.md "Process ownership". */
  marker: string;
}

/**
 * The complete environment of a claude child (spawned with `clearEnv: true`): an allow-list of the
 * daemon's variables plus the supervisor's own settings. Anything else (cloud keys, tokens,
 * passwords in the daemon's environment) never reaches the agent or its tools.
 */
export function buildChildEnv(options: ChildEnvOptions): Record<string, string> {
  const { daemonEnv, settings } = options;
  const env: Record<string, string> = {};
  const allowed = new Set([...CHILD_ENV_NAMES, ...settings.extraEnv]);
  for (const [name, value] of Object.entries(daemonEnv)) {
    if (value === undefined) continue;
    if (allowed.has(name) || CHILD_ENV_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  env.CLAUDE_CODE_MAX_RETRIES = String(settings.maxRetries);
  env.API_TIMEOUT_MS = String(settings.apiTimeoutMs);
  env.CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS = String(settings.streamIdleTimeoutMs);
  env.DISABLE_AUTOUPDATER = "1";
  // Effort is chosen per agent: a daemon-wide CLAUDE_CODE_EFFORT_LEVEL must not override it.
  if (options.effort === "none") env.CLAUDE_CODE_EFFORT_LEVEL = "unset";
  else delete env.CLAUDE_CODE_EFFORT_LEVEL;
  env[AGENT_MARKER_VAR] = options.marker;
  return env;
}
