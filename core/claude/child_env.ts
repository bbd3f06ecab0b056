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

/** How a proxied child reaches the daemon's quota proxy. */
export interface ChildProxyEnv {
  /** The proxy's Unix socket (`ANTHROPIC_UNIX_SOCKET`). */
  socketPath: string;
  /** The agent the token belongs to: the base URL names it (`http://localhost/a/<id>`). */
  agentId: string;
  /** The agent's own proxy token, its only credential (`ANTHROPIC_AUTH_TOKEN`). */
  token: string;
  /** A claude config dir without the daemon's credentials (replaces `CLAUDE_CONFIG_DIR`). */
  configDir: string;
}

/**
 * Variables a proxied child must not inherit: any credential (an API key would bypass the proxy
 * token, and the real one must never reach an agent), any other endpoint, provider switches.
 */
export function isCredentialOrEndpointVar(name: string): boolean {
  return name === "ANTHROPIC_API_KEY" || name === "ANTHROPIC_AUTH_TOKEN" ||
    name === "ANTHROPIC_BASE_URL" || name === "ANTHROPIC_UNIX_SOCKET" ||
    name === "ANTHROPIC_CUSTOM_HEADERS" || name === "CLAUDE_CONFIG_DIR" ||
    name.startsWith("CLAUDE_CODE_OAUTH") || name.startsWith("CLAUDE_CODE_USE_") ||
    name.startsWith("ANTHROPIC_BEDROCK") || name.startsWith("ANTHROPIC_VERTEX") ||
    name.startsWith("ANTHROPIC_FOUNDRY") || name.startsWith("CLOUD_ML_") ||
    /(_KEY|_TOKEN)$|SECRET|PASSWORD|CREDENTIAL/.test(name);
}

export interface ChildEnvOptions {
  daemonEnv: Env;
  settings: Pick<
    ClaudeSettings,
    "maxRetries" | "apiTimeoutMs" | "streamIdleTimeoutMs" | "extraEnv"
  >;
  effort: Effort;
  /** `<agent id>.<random>`; see AGENTS.md "Process ownership". */
  marker: string;
  /** Route the child through the quota proxy (its credential is then the proxy token only). */
  proxy?: ChildProxyEnv | null;
}

/**
 * The complete environment of a claude child (spawned with `clearEnv: true`): an allow-list of the
 * daemon's variables plus the supervisor's own settings. Anything else (cloud keys, tokens,
 * passwords in the daemon's environment) never reaches the agent or its tools. A proxied child
 * additionally loses every credential and endpoint variable and gets the proxy socket, its own
 * proxy token and a config dir of its own.
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
  const proxy = options.proxy;
  if (proxy) {
    for (const name of Object.keys(env)) {
      if (name !== AGENT_MARKER_VAR && isCredentialOrEndpointVar(name)) delete env[name];
    }
    env.ANTHROPIC_UNIX_SOCKET = proxy.socketPath;
    // /api/hello bypasses the socket (a harmless failed probe); everything else goes through it.
    env.ANTHROPIC_BASE_URL = `http://localhost/a/${proxy.agentId}`;
    // Bearer auth without the OAuth beta; the proxy adds that beta when its upstream is OAuth.
    env.ANTHROPIC_AUTH_TOKEN = proxy.token;
    env.CLAUDE_CONFIG_DIR = proxy.configDir;
  }
  return env;
}
