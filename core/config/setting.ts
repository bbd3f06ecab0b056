/** Reading one setting from environment values (pure). */
import type { Env } from "./paths.ts";

/** An integer setting from `env[name]` (`fallback` when unset or empty), refused below `min`. */
export function intSetting(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Cannot read ${name}: expected an integer >= ${min}, got "${raw}"`);
  }
  return value;
}
