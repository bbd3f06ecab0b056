/**
 * Readers for the stream-json lines the supervisor acts on: `system/init`, `result` and
 * `rate_limit_event` (claude_protocol.md §1).
 *
 * Each takes a parsed line (`classifyLine(...).value`), returns null when the line is of another
 * type, and never throws: a field of the wrong type reads as null or a default, because a CLI
 * upgrade must not be able to crash the supervisor.
 *
 * @module
 */

/** What the supervisor keeps from `system/init`. */
export interface InitInfo {
  /** Session id, needed for `--resume`. */
  sessionId: string | null;
  /** Resolved model (`opus` → `claude-opus-…`). */
  model: string | null;
  permissionMode: string | null;
  claudeCodeVersion: string | null;
}

/** What the supervisor keeps from the `result` line that ends every turn. */
export interface TurnResult {
  /** Whether the turn failed. API errors come as subtype `success` with `is_error: true`. */
  isError: boolean;
  subtype: string | null;
  /** HTTP status of the failing API call, when there was one. */
  apiErrorStatus: number | null;
  /** API round trips in this turn. */
  numTurns: number;
  /** Final text; null on interrupts and limits. */
  result: string | null;
  sessionId: string | null;
  /** Cumulative for the claude process, not for the turn. */
  totalCostUsd: number | null;
  /** `completed`, `api_error`, `aborted_streaming`, `max_turns`, … */
  terminalReason: string | null;
  /** Diagnostic strings (`errors` array), e.g. `Reached maximum number of turns (1)`. */
  errors: string[];
}

/** What the supervisor keeps from a `rate_limit_event` (OAuth auth only). */
export interface RateLimitInfo {
  /** `allowed`, `allowed_warning`, `rejected`, …; `unknown` when missing. */
  status: string;
  /** True when the request was refused (`status: "rejected"`); the CLI does not retry these. */
  rejected: boolean;
  /** When the limit window resets, epoch milliseconds. */
  resetsAtMs: number | null;
  /** `five_hour`, `seven_day`, … */
  rateLimitType: string | null;
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : null;
}

/**
 * Reads a `system/init` line; null for any other line.
 *
 * @example
 * ```ts
 * readInit({ type: "system", subtype: "init", session_id: "s", model: "claude-haiku-4-5" });
 * // { sessionId: "s", model: "claude-haiku-4-5", permissionMode: null, claudeCodeVersion: null }
 * ```
 */
export function readInit(value: Record<string, unknown>): InitInfo | null {
  if (value.type !== "system" || value.subtype !== "init") return null;
  return {
    sessionId: str(value.session_id),
    model: str(value.model),
    permissionMode: str(value.permissionMode),
    claudeCodeVersion: str(value.claude_code_version),
  };
}

/**
 * Reads a `result` line; null for any other line.
 *
 * Success or failure comes from `is_error`, never from the text or the subtype: an API error is
 * reported as subtype `success` with `is_error: true`. Only when `is_error` is missing or not a
 * boolean does a subtype other than `success` count as an error, so a malformed line errs on the
 * side of failure.
 *
 * @example
 * ```ts
 * readResult({ type: "result", subtype: "success", is_error: true, api_error_status: 429, num_turns: 1 });
 * // { isError: true, subtype: "success", apiErrorStatus: 429, numTurns: 1, … }
 * ```
 */
export function readResult(value: Record<string, unknown>): TurnResult | null {
  if (value.type !== "result") return null;
  const subtype = str(value.subtype);
  const isError = typeof value.is_error === "boolean" ? value.is_error : subtype !== "success";
  const status = value.api_error_status;
  const numTurns = value.num_turns;
  const cost = value.total_cost_usd;
  return {
    isError,
    subtype,
    apiErrorStatus: Number.isSafeInteger(status) ? status as number : null,
    numTurns: Number.isSafeInteger(numTurns) && (numTurns as number) >= 0 ? numTurns as number : 0,
    result: str(value.result),
    sessionId: str(value.session_id),
    totalCostUsd: typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : null,
    terminalReason: str(value.terminal_reason),
    errors: Array.isArray(value.errors)
      ? value.errors.filter((e): e is string => typeof e === "string")
      : [],
  };
}

// Epoch seconds this large would be past the year 5000: the value must already be milliseconds.
// Guards against a future wire change without misreading today's seconds.
const SECONDS_LIMIT = 1e11;

/**
 * Reads a `rate_limit_event` line; null for any other line or one without `rate_limit_info`.
 *
 * `resetsAt` is epoch seconds on the wire; it is returned as epoch milliseconds.
 *
 * @example
 * ```ts
 * readRateLimit({ type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt: 1795612807 } });
 * // { status: "rejected", rejected: true, resetsAtMs: 1795612807000, rateLimitType: null }
 * ```
 */
export function readRateLimit(value: Record<string, unknown>): RateLimitInfo | null {
  if (value.type !== "rate_limit_event") return null;
  const info = record(value.rate_limit_info);
  if (info === null) return null;
  const status = str(info.status) ?? "unknown";
  const resetsAt = info.resetsAt;
  let resetsAtMs: number | null = null;
  if (typeof resetsAt === "number" && Number.isFinite(resetsAt) && resetsAt > 0) {
    resetsAtMs = Math.round(resetsAt < SECONDS_LIMIT ? resetsAt * 1000 : resetsAt);
  }
  return {
    status,
    rejected: status === "rejected",
    resetsAtMs,
    rateLimitType: str(info.rateLimitType),
  };
}
