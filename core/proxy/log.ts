/** Logging helpers of the proxy: the log function's shape and control-character escaping. */

/** The engine's structured log function (the daemon writes JSON lines). */
export type ProxyLog = (
  level: "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

// C0 controls and DEL, C1 controls, line/paragraph separators and bidi overrides: anything that
// could end a log line, forge a record or reorder text in a terminal or a viewer.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes characters a log line must never carry raw as `\uXXXX` text. JSON encoding escapes C0
 * controls already; this covers the rest and is applied to every value the proxy logs that came
 * from a request, an upstream response or the configuration.
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The default log: JSON lines on stderr, control characters escaped. */
export const stderrLog: ProxyLog = (level, message, fields) => {
  const record = JSON.stringify({ ts: new Date().toISOString(), level, message, ...fields });
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(escapeControl(record) + "\n"));
  } catch {
    // stderr closed
  }
};
