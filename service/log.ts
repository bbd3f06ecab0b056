/**
 * The one structured logger of the daemon, the admin server and the engine: JSON lines on stderr,
 * one record per line. Nothing is read at import; the caller passes the level (from
 * `HERO_ORCHESTRATOR_LOG_LEVEL`) in.
 *
 * @example
 * ```ts
 * import { createLogger } from "@hero/service/log";
 *
 * const log = createLogger({ level: "warn", service: "hero_orchestrator_admin" });
 * log("info", "dropped: below warn");
 * log("error", "cannot start", { error: "socket in use" });
 * ```
 * @module
 */

/** Log levels, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** A structured log function: a level, a fixed message, and fields for the variable parts. */
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /**
   * Lowest level written (the caller passes `HERO_ORCHESTRATOR_LOG_LEVEL`). Empty or absent:
   * `info`. A name that is not a level writes everything, so a typo never hides a record.
   */
  level?: string | undefined;
  /** Written as `service` right after `level` in every record (the admin names itself). */
  service?: string | undefined;
}

/** A logger that drops everything (tests, and callers that were given none). */
export const noLog: Log = () => {};

// C0 controls and DEL, C1 controls, line/paragraph separators and bidi overrides: anything that
// could end a log line, forge a record or reorder text in a terminal or a viewer.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes characters a log line must never carry raw as `\uXXXX` text. JSON encoding escapes C0
 * controls already; this covers the rest. Inside a JSON string the result decodes to the same
 * text, so escaping a whole record changes its bytes, never its meaning.
 *
 * @example
 * ```ts
 * import { escapeControl } from "@hero/service/log";
 *
 * escapeControl("a\u2028b"); // "a\\u2028b"
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * A logger writing records at or above `options.level` to stderr as
 * `{"ts","level"[,"service"],"message",...fields}`, control characters escaped.
 */
export function createLogger(options: LoggerOptions = {}): Log {
  const min = Math.max(0, LOG_LEVELS.indexOf((options.level || "info") as LogLevel));
  const service = options.service;
  const encoder = new TextEncoder();
  return function log(level, message, fields) {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const record = JSON.stringify({
      ts: new Date().toISOString(),
      level,
      ...(service === undefined ? {} : { service }),
      message,
      ...fields,
    });
    try {
      Deno.stderr.writeSync(encoder.encode(escapeControl(record) + "\n"));
    } catch {
      // stderr closed: nothing to do
    }
  };
}
