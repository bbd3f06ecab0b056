/** JSONL logging on stderr: one record per line, control characters escaped by JSON. */
import type { Log } from "./rpc/deps.ts";

const LEVELS = ["debug", "info", "warn", "error"] as const;

/** A logger writing records at or above `minLevel` to stderr. */
export function createLogger(minLevel: string = "info"): Log {
  const min = Math.max(0, LEVELS.indexOf(minLevel as typeof LEVELS[number]));
  const encoder = new TextEncoder();
  return function log(level, message, fields) {
    if (LEVELS.indexOf(level) < min) return;
    const record = JSON.stringify({ ts: new Date().toISOString(), level, message, ...fields });
    try {
      Deno.stderr.writeSync(encoder.encode(record + "\n"));
    } catch {
      // stderr closed: nothing to do
    }
  };
}
