/**
 * `hero_orchestrator show <id>`: one agent's state, as `key value` lines or JSON.
 * @module
 */
import type { CliContext } from "../context.ts";
import type { Command } from "./command.ts";
import { agentDetails } from "./_format.ts";
import { parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator show <id> [--json]

Shows one agent: status, model, timings, usage, error and result.
  --json      print the agent row as JSON
  -h, --help  print this help`;

export const show: Command = {
  name: "show",
  summary: "show one agent",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("show", args, { json: { type: "boolean" } }, {
      min: 1,
      max: 1,
      names: "the agent id",
    });
    const agent = await ctx.client().agent.get({ id: positionals[0]! });
    ctx.stdout.write(
      values.json ? JSON.stringify(agent, null, 2) + "\n" : agentDetails(agent, ctx.color),
    );
    return 0;
  },
};
