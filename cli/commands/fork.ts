/**
 * `hero_orchestrator fork <id> --at SEQ <prompt>`: a new agent continuing another's session from
 * one of its messages (`agent.fork`); the original session stays as it was.
 * @module
 */
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import type { Command } from "./command.ts";
import { intOption, parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator fork <id> --at SEQ [--name NAME] [--isolation worktree|none]
                              [--base REF] [--json] <prompt...>

Starts a new agent whose claude session is agent <id>'s up to and including its message SEQ (the
seq \`logs\` and the admin show), continued with <prompt>. The original agent is not changed.
  --at SEQ     the message to fork after (a user or assistant line)
  --name NAME  the new agent's name (default: Fork of <name> at #SEQ)
  --isolation worktree|none
               worktree: a git worktree and branch of its own; none: the original's directory
               (default: worktree when the original had one, else the daemon's default)
  --base REF   with a worktree: the branch (or commit) it starts from (default HEAD)
  --json       print the new agent row as JSON
  -h, --help   print this help`;

export const fork: Command = {
  name: "fork",
  summary: "start a new agent from an agent's session at one of its messages",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("fork", args, {
      at: { type: "string" },
      name: { type: "string" },
      isolation: { type: "string" },
      base: { type: "string" },
      json: { type: "boolean" },
    }, { min: 2, max: Infinity, names: "the agent id and a prompt" });
    const seq = intOption("fork", "at", values.at);
    if (seq === undefined) throw new UsageError("missing --at SEQ", "fork");
    const isolation = values.isolation;
    if (isolation !== undefined && isolation !== "worktree" && isolation !== "none") {
      throw new UsageError(`--isolation must be worktree or none, not "${isolation}"`, "fork");
    }
    const agent = await ctx.client().agent.fork({
      id: positionals[0]!,
      seq,
      prompt: positionals.slice(1).join(" "),
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(isolation !== undefined ? { isolation } : {}),
      ...(values.base !== undefined ? { base_ref: values.base } : {}),
    });
    ctx.stdout.write(
      values.json ? JSON.stringify(agent, null, 2) + "\n" : `${agent.id} ${agent.status}\n`,
    );
    return 0;
  },
};
