/**
 * `hero_orchestrator logs <id> [--follow]`: an agent's transcript; `--follow` streams new lines
 * live over the event stream (SSE) until the agent settles.
 * @module
 */
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs } from "./_parse.ts";
import { printTranscript } from "./_transcript.ts";

const USAGE = `Usage: hero_orchestrator logs <id> [--follow] [--raw | --json]

Prints an agent's stored output, one readable line per stream-json line.
  -f, --follow  keep printing new lines live until the agent is awaiting_review, completed,
                failed or cancelled
  --raw         print the stream-json lines exactly as claude wrote them
  --json        print each stored row (seq, ts, type, raw, …) as one JSON line
  -h, --help    print this help`;

export const logs: Command = {
  name: "logs",
  summary: "print an agent's transcript (--follow streams it live)",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("logs", args, {
      follow: { type: "boolean", short: "f" },
      raw: { type: "boolean" },
      json: { type: "boolean" },
    }, { min: 1, max: 1, names: "the agent id" });
    if (values.raw && values.json) {
      throw new UsageError("--raw and --json exclude each other", "logs");
    }
    await printTranscript(ctx, positionals[0]!, {
      follow: values.follow ?? false,
      format: values.raw ? "raw" : values.json ? "json" : "text",
    });
    return 0;
  },
};
