/** JSONL logging on stderr: one record per line, control characters escaped by JSON. */

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured logger. */
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** A logger writing records at or above `minLevel` to stderr. */
export function createLogger(minLevel = "info"): Log {
  const min = Math.max(0, LEVELS.indexOf(minLevel as LogLevel));
  const encoder = new TextEncoder();
  return function log(level, message, fields) {
    if (LEVELS.indexOf(level) < min) return;
    const record = JSON.stringify({
      ts: new Date().toISOString(),
      level,
      service: "hero_orchestrator_admin",
      message,
      ...fields,
    });
    try {
      Deno.stderr.writeSync(encoder.encode(record + "\n"));
    } catch {
      // stderr closed: nothing to do
    }
  };
}

/** A logger that drops everything (tests). */
export const noLog: Log = () => {};
