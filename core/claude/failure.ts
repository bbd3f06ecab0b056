/**
 * Why a claude run failed, as a stable error code and a message in our own words (claude's say
 * "Please run /login", which does not exist here). Classified from structured data first: the
 * result's `api_error_status`, the synthetic assistant line's `error`, the exit status, the spawn
 * error, and the kind of credential the server sends upstream. Only where claude gives nothing
 * but text (the root refusal on stderr, a connection failure without a status) is text matched,
 * in {@linkcode TEXT_SIGNS}, one entry each, every one tested against the real CLI.
 * @module
 */
import type { TurnResult } from "./turn_result.ts";
import { ValidationError } from "../models/mod.ts";
import { SpawnError } from "./driver.ts";

/** How the server's upstream credential is sent; null: it has none; undefined: not known. */
export type CredentialKindSeen = "api_key" | "bearer" | "oauth" | null | undefined;

/** An error code and its message, ready for the agent row. */
export interface Failure {
  error_code: string;
  error_message: string;
}

/** What the run saw besides the result line. */
export interface FailureContext {
  /** `error` of the last assistant line (`authentication_failed`, `server_error`, …). */
  assistantError?: string | null;
  /** The credential the server sends upstream (see {@linkcode CredentialKindSeen}). */
  credential?: CredentialKindSeen;
}

/** One text claude prints where it gives no structured field, and what it means. */
export interface TextSign {
  code: string;
  /** Where the text appears: the result's text, or stderr (no result at all). */
  where: "result" | "stderr";
  pattern: RegExp;
  /** A line the pinned CLI printed for it. */
  example: string;
}

/** The only free-text matches; each has a real-CLI test (core/claude/failure_real_cli_test.ts). */
export const TEXT_SIGNS: readonly TextSign[] = [
  {
    code: "root_without_sandbox",
    where: "stderr",
    pattern: /cannot be used with root\/sudo privileges/,
    example: "--dangerously-skip-permissions cannot be used with root/sudo privileges for " +
      "security reasons",
  },
  {
    code: "upstream_unreachable",
    where: "result",
    pattern: /\(ECONNREFUSED\)|Connection refused/,
    example:
      "API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)",
  },
  {
    code: "invalid_api_key",
    where: "result",
    pattern: /^Invalid API key/,
    example: "Invalid API key · Fix external API key",
  },
  {
    code: "not_logged_in",
    where: "result",
    pattern: /^Not logged in/,
    example: "Not logged in · Please run /login",
  },
];

function signOf(where: TextSign["where"], text: string | null): string | null {
  if (!text) return null;
  return TEXT_SIGNS.find((s) => s.where === where && s.pattern.test(text))?.code ?? null;
}

/** `error` of an assistant line (claude's synthetic line before a failed result), else null. */
export function readAssistantError(value: Record<string, unknown>): string | null {
  return value.type === "assistant" && typeof value.error === "string" ? value.error : null;
}

const GATEWAY_STATUSES = new Set([502, 503, 504]);

function authFailure(credential: CredentialKindSeen, said: string | null): Failure {
  let code: string;
  if (credential === undefined) code = signOf("result", said) ?? "not_logged_in";
  else {code = credential === "api_key" || credential === "bearer"
      ? "invalid_api_key"
      : "not_logged_in";}
  const message = code === "invalid_api_key"
    ? `The API refused the ${
      credential === "bearer" ? "token in ANTHROPIC_AUTH_TOKEN" : "API key"
    } (401 authentication error)`
    : credential === "oauth"
    ? "The API refused the claude login (401): it expired or was revoked"
    : "No credential: the server has no claude login or API key to send to the API";
  return { error_code: code, error_message: message };
}

/**
 * The failure a result line with `is_error` reports.
 *
 * @example
 * ```ts
 * resultFailure({ isError: true, apiErrorStatus: 401, … }, { credential: "api_key" });
 * // { error_code: "invalid_api_key", error_message: "The API refused the API key (401 …)" }
 * ```
 */
export function resultFailure(result: TurnResult, context: FailureContext = {}): Failure {
  const status = result.apiErrorStatus;
  const said = result.result ?? (result.errors.join("; ") || null);
  const apiError = status !== null || result.terminalReason === "api_error";
  if (
    status === 401 || (status === null && context.assistantError === "authentication_failed")
  ) {
    return authFailure(context.credential, said);
  }
  if (status !== null && GATEWAY_STATUSES.has(status)) {
    return {
      error_code: "upstream_unreachable",
      error_message: `The API could not be reached: the gateway or proxy answered ${status}` +
        (said ? ` (claude said: ${said})` : ""),
    };
  }
  if (apiError && status === null && signOf("result", said) === "upstream_unreachable") {
    return {
      error_code: "upstream_unreachable",
      error_message: `The API could not be reached (claude said: ${said})`,
    };
  }
  if (status === 429) {
    return { error_code: "rate_limited", error_message: said ?? "The API rate limit was reached" };
  }
  return {
    error_code: apiError ? "api_error" : "turn_error",
    error_message: said ?? `claude ended the turn with ${result.subtype}`,
  };
}

/** The failure of a process that exited (or was killed) without printing a result. */
export function exitFailure(status: Deno.CommandStatus, stderr: string): Failure {
  const tail = stderr.trim().split("\n").at(-1) ?? "";
  if (!status.signal && signOf("stderr", stderr) === "root_without_sandbox") {
    return {
      error_code: "root_without_sandbox",
      error_message: "claude refuses to run agents as root outside a sandbox " +
        `(it said: ${tail})`,
    };
  }
  const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
  return {
    error_code: status.success ? "exit_without_result" : "exit_nonzero",
    error_message: `claude ${how} before printing a result${tail ? `: ${tail}` : ""}`,
  };
}

/** The failure of a spawn that threw: its own code (`claude_not_found`, `invalid_cwd`, …). */
export function spawnFailure(err: unknown): Failure {
  return {
    error_code: err instanceof SpawnError || err instanceof ValidationError
      ? err.code
      : "spawn_failed",
    error_message: err instanceof Error ? err.message : String(err),
  };
}
