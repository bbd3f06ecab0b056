/**
 * `hero_orchestrator pause <id>`, `resume <id>` and `budget <id>`: the quota governor by hand.
 * A pause stops the agent's run cleanly and keeps its session; resume continues it through the
 * queue; budget sets or clears an agent's cost and turn caps (raising one resumes an agent paused
 * for it).
 * @module
 */
import { UsageError } from "../fail.ts";
import type { CliContext } from "../context.ts";
import type { Command } from "./command.ts";
import { intOption, parseCommandArgs } from "./_parse.ts";

interface Row {
  id: string;
  status: string;
  pause_reason: string | null;
  resume_at: number | null;
  max_cost_usd: number | null;
  max_turns: number | null;
  total_cost_usd: number;
  num_turns: number;
}

function line(agent: Row): string {
  const why = agent.status === "paused" && agent.pause_reason
    ? ` (${agent.pause_reason}` +
      (agent.resume_at ? `, resumes ${new Date(agent.resume_at).toISOString()})` : ")")
    : "";
  return `${agent.id} ${agent.status}${why}\n`;
}

function idCommand(
  name: "pause" | "resume",
  summary: string,
  usage: string,
): Command {
  return {
    name,
    summary,
    usage,
    async run(args: string[], ctx: CliContext): Promise<number> {
      const { values, positionals } = parseCommandArgs(name, args, {
        json: { type: "boolean" },
        ...(name === "resume" ? { "override-budget": { type: "boolean" as const } } : {}),
      }, { min: 1, max: 1, names: "the agent id" });
      const client = ctx.client();
      const id = positionals[0]!;
      const agent = name === "pause"
        ? await client.agent.pause({ id })
        : await client.agent.resume({
          id,
          ...((values as Record<string, unknown>)["override-budget"]
            ? { override_budget: true }
            : {}),
        });
      ctx.stdout.write(values.json ? JSON.stringify(agent, null, 2) + "\n" : line(agent));
      return 0;
    },
  };
}

export const pause: Command = idCommand(
  "pause",
  "pause a queued or running agent (its session is kept)",
  `Usage: hero_orchestrator pause <id> [--json]

Stops the agent's run cleanly and keeps its claude session; the agent stays paused until
\`resume\`. Waits until its process is gone.
  --json      print the agent row as JSON
  -h, --help  print this help`,
);

export const resume: Command = idCommand(
  "resume",
  "continue a paused agent now",
  `Usage: hero_orchestrator resume <id> [--override-budget] [--json]

Continues a paused agent's session through the queue (refused unless it is paused, or while it
is past its budget: raise it with \`budget\`, or pass --override-budget).
  --override-budget  clear the agent's own budgets that it reached, then continue
  --json             print the agent row as JSON
  -h, --help         print this help`,
);

const BUDGET_USAGE =
  `Usage: hero_orchestrator budget <id> [--cost USD|none] [--turns N|none] [--json]

Shows an agent's budgets, or sets them: reaching one pauses the agent (never kills it); raising
the budget of an agent paused for it continues it in place. "none" clears a budget.
  --cost USD   cost cap in USD (above 0)
  --turns N    cap on API round trips
  --json       print the agent row as JSON
  -h, --help   print this help`;

export const budget: Command = {
  name: "budget",
  summary: "show or set an agent's cost and turn budgets",
  usage: BUDGET_USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("budget", args, {
      cost: { type: "string" },
      turns: { type: "string" },
      json: { type: "boolean" },
    }, { min: 1, max: 1, names: "the agent id" });
    const id = positionals[0]!;
    const client = ctx.client();
    let cost: number | null | undefined;
    if (values.cost !== undefined) {
      cost = values.cost === "none" ? null : Number(values.cost);
      if (cost !== null && (!Number.isFinite(cost) || cost <= 0)) {
        throw new UsageError(
          `--cost must be a number above 0 or "none", got "${values.cost}"`,
          "budget",
        );
      }
    }
    const turns = values.turns === "none" ? null : intOption("budget", "turns", values.turns);
    const agent: Row = cost === undefined && turns === undefined
      ? await client.agent.get({ id })
      : await client.agent.setBudget({
        id,
        ...(cost !== undefined ? { max_cost_usd: cost } : {}),
        ...(turns !== undefined ? { max_turns: turns } : {}),
      });
    if (values.json) {
      ctx.stdout.write(JSON.stringify(agent, null, 2) + "\n");
      return 0;
    }
    const costText = agent.max_cost_usd === null
      ? `cost $${agent.total_cost_usd.toFixed(4)} (no budget)`
      : `cost $${agent.total_cost_usd.toFixed(4)} of $${agent.max_cost_usd}`;
    const turnText = agent.max_turns === null
      ? `${agent.num_turns} turns (no budget)`
      : `${agent.num_turns} of ${agent.max_turns} turns`;
    ctx.stdout.write(`${line(agent).trimEnd()}: ${costText}, ${turnText}\n`);
    return 0;
  },
};
