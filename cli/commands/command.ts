/**
 * The shape of a subcommand: one file per command under `cli/commands/`, dispatched by
 * `cli/main.ts`. A command parses its own arguments (throwing `UsageError` on bad ones) and
 * returns its exit code; failures are thrown and printed once by `fail()`.
 * @module
 */
import type { CliContext } from "../context.ts";

/** A subcommand. */
export interface Command {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The command's `--help` text. */
  usage: string;
  run(args: string[], ctx: CliContext): Promise<number>;
}
