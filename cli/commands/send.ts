/**
 * `hero_orchestrator send <id> <prompt | ->`: delivers a message to an agent now (a live process
 * takes it at once, queues it after the running turn or, with `--steer`, has the running turn read
 * it at its next tool boundary; otherwise the session is resumed), and
 * `hero_orchestrator interrupt <id>`: ends the running turn, keeping the process and the session.
 * @module
 */
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs } from "./_parse.ts";

const SEND_USAGE = `Usage: hero_orchestrator send <id> <prompt | -> [--steer] [--json]

Sends a message to an agent ("-" reads it from stdin). An agent with a live process starts the
next turn at once (or, while a turn runs, gets it queued as the next turn); otherwise its claude
session is resumed in a new process. Prints the agent id and what happened: started, queued,
steered or resumed.
  --steer     while a turn runs: the agent reads the message at its next tool call boundary,
              within that turn (no abort), instead of after it
  --execute   planner: carry the plan out (leave plan mode)
  --json      print {agent, delivery} as JSON
  -h, --help  print this help`;

const INTERRUPT_USAGE = `Usage: hero_orchestrator interrupt <id> [--json]

Interrupts the agent's running turn: the turn ends, what it produced is kept, the process stays
and the agent awaits review; the next \`send\` continues the same session. Not cancel.
  --json      print the agent row as JSON
  -h, --help  print this help`;

async function readStdin(): Promise<string> {
  return (await new Response(Deno.stdin.readable).text()).trim();
}

export const send: Command = {
  name: "send",
  summary: "send a message to an agent (live turn, queued, or resumed)",
  usage: SEND_USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("send", args, {
      execute: { type: "boolean" },
      steer: { type: "boolean" },
      json: { type: "boolean" },
    }, { min: 2, max: 2, names: "the agent id and the prompt" });
    const prompt = positionals[1] === "-" ? await readStdin() : positionals[1]!;
    if (prompt.length === 0) throw new UsageError("the prompt is empty", "send");
    const sent = await ctx.client().agent.send({
      id: positionals[0]!,
      prompt,
      ...(values.execute ? { execute: true } : {}),
      ...(values.steer ? { mode: "steer" as const } : {}),
    });
    ctx.stdout.write(
      values.json
        ? JSON.stringify(sent, null, 2) + "\n"
        : `${sent.agent.id} ${sent.delivery} (${sent.agent.status})\n`,
    );
    return 0;
  },
};

export const interrupt: Command = {
  name: "interrupt",
  summary: "interrupt an agent's running turn (the session stays)",
  usage: INTERRUPT_USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("interrupt", args, {
      json: { type: "boolean" },
    }, { min: 1, max: 1, names: "the agent id" });
    const agent = await ctx.client().agent.interrupt({ id: positionals[0]! });
    ctx.stdout.write(
      values.json ? JSON.stringify(agent, null, 2) + "\n" : `${agent.id} ${agent.status}\n`,
    );
    return 0;
  },
};
