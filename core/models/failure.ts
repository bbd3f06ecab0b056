/**
 * What a person can do about each way an agent can fail: one line per error code, shown beside the
 * error on the dashboard card, the agent page, the widget and the CLI (as `Agent.error_fix`).
 * @module
 */

/**
 * How a person runs a task of this repository, as the README writes it: for someone who has only
 * npx (with Deno 2.9.6 on PATH, `deno task …` is the same). Every printed fix uses this form.
 */
export const TASK_COMMAND = "npx -y deno@2.9.6 task";
/** The CLI as a fix text names it. */
export const CLI_COMMAND = `${TASK_COMMAND} cli`;
const CLI = CLI_COMMAND;
const LOGIN = `\`${CLI} login\` (a claude subscription) or \`${CLI} login --api-key\``;

/** The one-line fix of each error code (codes without an entry have none to offer). */
export const ERROR_FIXES: Readonly<Record<string, string>> = {
  not_logged_in: `Give the server a credential: as the server's user run ${LOGIN}, then retry`,
  invalid_api_key: `Store a valid key with \`${CLI} login --api-key\` (or correct ` +
    "ANTHROPIC_AUTH_TOKEN and restart the server), then retry",
  claude_not_found: "Install the claude CLI (npm install -g @anthropic-ai/claude-code) or set " +
    "HERO_ORCHESTRATOR_CLAUDE_BIN to its path, then restart the server",
  root_without_sandbox: "Run the server as a normal user, or (in a disposable container or VM " +
    "only) start it with --allow-root or IS_SANDBOX=1, then retry",
  upstream_unreachable: "Check the network from the server (or HTTPS_PROXY), or point " +
    "ANTHROPIC_BASE_URL at a reachable gateway and restart, then retry",
  rate_limited: "Wait until the limit resets (shown on the agent), then follow up to continue",
  api_error: "The API refused or failed the request; see the message, then follow up to retry",
  turn_error: "claude ended the turn with an error; read the transcript, then follow up",
  invalid_cwd: "Pick a folder that exists inside the allowed roots (HERO_ORCHESTRATOR_ALLOWED_" +
    "ROOTS) and create the agent again",
  spawn_failed: "The server could not start claude; check the server log and the readiness " +
    "banner, then retry",
  exit_nonzero: "claude exited early; its last stderr lines are on the agent page",
  exit_without_result: "claude exited without a result; its stderr is on the agent page",
  stdout_closed: "claude stopped reporting and was stopped; follow up to continue the session",
  line_too_long: "claude printed a line over HERO_ORCHESTRATOR_MAX_LINE_BYTES; raise it or " +
    "ask for smaller output",
  idle_timeout: "claude printed nothing for too long (HERO_ORCHESTRATOR_IDLE_TIMEOUT_MS); " +
    "follow up to continue",
  max_runtime: "The run hit HERO_ORCHESTRATOR_MAX_RUNTIME_MS; follow up to continue",
  daemon_restart: "The server restarted while it ran; follow up to continue the session",
  daemon_shutdown: "The server stopped while it ran; follow up to continue the session",
  storage_error: "The database could not store its output (disk full?); free space, then " +
    "follow up",
};

/**
 * The fix for `code`, or null when there is none (or no code).
 *
 * @example
 * ```ts
 * errorFix("not_logged_in"); // "Give the server a credential: …"
 * errorFix(null); // null
 * ```
 */
export function errorFix(code: string | null | undefined): string | null {
  if (!code || !Object.hasOwn(ERROR_FIXES, code)) return null;
  return ERROR_FIXES[code]!;
}
