/**
 * Shared argument helpers of the commands.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../fail.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `parseArgs` in strict mode; any parse error becomes a {@linkcode UsageError} for `command`. */
export function parseCommandArgs<O extends Options>(
  command: string,
  args: string[],
  options: O,
  positionals: { min: number; max: number; names: string },
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), command);
  }
  const n = parsed.positionals.length;
  if (n < positionals.min) throw new UsageError(`missing ${positionals.names}`, command);
  if (n > positionals.max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max]}"`, command);
  }
  return parsed;
}

/** A positive integer option, or undefined. */
export function intOption(
  command: string,
  name: string,
  raw: string | undefined,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a positive integer, got "${raw}"`, command);
  }
  return n;
}

/** Whether `value` is one of `allowed` (an SDK enum array such as `EFFORTS`). */
export function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}
