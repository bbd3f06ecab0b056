/**
 * hero_orchestrator: the operator CLI. A thin dispatcher: global options, then one command per
 * file in `commands/`. Everything that concerns the service goes through the SDK over rpc.sock.
 *
 * Exit codes: 0 ok, 1 failure (`error: …`, the cause chain with `--verbose`), 2 usage error.
 * @module
 */
import { parseArgs } from "node:util";
import { type CliContext, createContext, denoOutput, explainRpcError } from "./context.ts";
import { exitCodeOf, fail, formatError, UsageError } from "./fail.ts";
import { buildManifest, CLI_VERSION, renderManifest } from "./manifest.ts";
import type { Command } from "./commands/command.ts";
import { agents } from "./commands/agents.ts";
import { cancel } from "./commands/cancel.ts";
import { backup } from "./commands/backup.ts";
import { doctor } from "./commands/doctor.ts";
import { exportCommand } from "./commands/export.ts";
import { fork } from "./commands/fork.ts";
import { importCommand } from "./commands/import.ts";
import { login } from "./commands/login.ts";
import { logs } from "./commands/logs.ts";
import { budget, pause, resume } from "./commands/pause.ts";
import { run } from "./commands/run.ts";
import { search } from "./commands/search.ts";
import { interrupt, send } from "./commands/send.ts";
import { approvals, approve, deny } from "./commands/approvals.ts";
import { show } from "./commands/show.ts";
import { diff, discard, merge } from "./commands/review.ts";

/** Every command, in help order. */
export const COMMANDS: readonly Command[] = [
  doctor,
  login,
  agents,
  show,
  logs,
  exportCommand,
  fork,
  importCommand,
  cancel,
  pause,
  resume,
  budget,
  run,
  send,
  interrupt,
  approvals,
  approve,
  deny,
  search,
  backup,
  diff,
  merge,
  discard,
];

/** The top-level help. */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: hero_orchestrator <command> [options]
       hero_orchestrator --info [--json]

Operator CLI of hero_orchestrator: talks to hero_orchestrator_server over
$PATH_SOCKET/hero_orchestrator/rpc.sock. It never starts or registers services.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Options:
  --info        print the manifest (TOML; --json for JSON) and exit
  --verbose     with an error, print its cause chain
  -V, --version print the version
  -h, --help    print this help (\`hero_orchestrator <command> --help\` for a command)
`;
}

/** Splits `--verbose` (allowed anywhere) from the rest. */
function takeVerbose(args: string[]): { verbose: boolean; rest: string[] } {
  const rest = args.filter((a) => a !== "--verbose");
  return { verbose: rest.length !== args.length, rest };
}

/**
 * Runs the CLI on `args` with `ctx` (built from the environment when omitted) and returns the
 * exit code; errors are printed, never thrown.
 */
export async function main(args: string[], ctx?: CliContext): Promise<number> {
  const { verbose, rest } = takeVerbose(args);
  let context = ctx;
  try {
    context ??= createContext({
      env: Deno.env.toObject(),
      stdout: denoOutput(Deno.stdout),
      stderr: denoOutput(Deno.stderr),
      stdinIsTerminal: Deno.stdin.isTerminal(),
      verbose,
    });
  } catch (err) {
    console.error(formatError(err, verbose));
    return exitCodeOf(err);
  }
  const c = context;
  const verboseOn = verbose || c.verbose;
  try {
    const [first, ...tail] = rest;
    const command = COMMANDS.find((k) => k.name === first);
    if (command) {
      if (tail.includes("--help") || tail.includes("-h")) {
        c.stdout.write(command.usage + "\n");
        return 0;
      }
      return await command.run(tail, c);
    }
    if (first !== undefined && !first.startsWith("-")) {
      throw new UsageError(`unknown command "${first}"`);
    }
    let values;
    try {
      ({ values } = parseArgs({
        args: rest,
        options: {
          info: { type: "boolean" },
          json: { type: "boolean" },
          version: { type: "boolean", short: "V" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    if (values.info) {
      c.stdout.write(renderManifest(buildManifest(c.env), values.json ? "json" : "toml"));
      return 0;
    }
    if (values.json) throw new UsageError("--json needs --info (or a command)");
    if (values.version) {
      c.stdout.write(`hero_orchestrator ${CLI_VERSION}\n`);
      return 0;
    }
    if (values.help) {
      c.stdout.write(usage());
      return 0;
    }
    throw new UsageError("missing command");
  } catch (err) {
    const explained = explainRpcError(err, c.paths.rpcSocket);
    c.stderr.write(formatError(explained, verboseOn) + "\n");
    return exitCodeOf(explained);
  } finally {
    c.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args).catch((err) => fail(err)));
