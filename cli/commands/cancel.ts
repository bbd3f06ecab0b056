/**
 * `hero_orchestrator cancel <id>`: cancels a queued or running agent; returns once it and its
 * processes are gone (that is what `agent.cancel` answers).
 * @module
 */
import type { CliContext } from "../context.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator cancel <id> [--json]

Cancels a queued or running agent and waits until its process tree is gone.
  --json      print the agent row as JSON
  -h, --help  print this help`;

export const cancel: Command = {
  name: "cancel",
  summary: "cancel a queued or running agent",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      "cancel",
      args,
      { json: { type: "boolean" } },
      {
        min: 1,
        max: 1,
        names: "the agent id",
      },
    );
    const agent = await ctx.client().agent.cancel({ id: positionals[0]! });
    ctx.stdout.write(
      values.json ? JSON.stringify(agent, null, 2) + "\n" : `${agent.id} ${agent.status}\n`,
    );
    return 0;
  },
};
