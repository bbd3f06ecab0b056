/**
 * The CLI's one error exit: `fail(err)` prints `error: <Name>: <message>` (the cause chain with
 * `--verbose`) and exits 1. Usage errors are {@linkcode UsageError}s and exit 2 with a hint.
 * @module
 */

/** Wrong arguments: exit code 2 and a one-line hint to the command's help. */
export class UsageError extends Error {
  override name = "UsageError";
  /** The command whose `--help` the hint names (empty: the top level). */
  readonly command: string;
  constructor(message: string, command = "") {
    super(message);
    this.command = command;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== "Error" ? `${err.name}: ` : "";
    return `${name}${err.message}`;
  }
  return String(err);
}

/**
 * The text `fail` prints: the first line, then `  caused by: …` lines when `verbose`.
 *
 * @example
 * ```ts
 * const err = new Error("Cannot list agents", { cause: new TypeError("bad socket") });
 * formatError(err, true); // "error: Cannot list agents\n  caused by: TypeError: bad socket"
 * ```
 */
export function formatError(err: unknown, verbose: boolean): string {
  if (err instanceof UsageError) {
    const help = err.command
      ? `hero_orchestrator ${err.command} --help`
      : "hero_orchestrator --help";
    return `error: ${err.message}\nhint: run \`${help}\` for usage`;
  }
  const lines = [`error: ${describe(err)}`];
  if (verbose) {
    let cause = err instanceof Error ? err.cause : undefined;
    for (let depth = 0; cause !== undefined && depth < 10; depth++) {
      lines.push(`  caused by: ${describe(cause)}`);
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  } else if (err instanceof Error && err.cause !== undefined) {
    lines.push("  (run with --verbose for the cause)");
  }
  return lines.join("\n");
}

/** The exit code for `err`: 2 for usage errors, else 1. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? 2 : 1;
}

/** Prints `err` to stderr and exits (2 for usage errors, 1 otherwise). */
export function fail(err: unknown, verbose = false): never {
  console.error(formatError(err, verbose));
  Deno.exit(exitCodeOf(err));
}
