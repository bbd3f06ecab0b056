/**
 * `hero_orchestrator run --cwd D [--model M] [--effort E] "prompt" [--wait]`: creates an agent;
 * with `--wait`, streams its transcript and exits 0 once it awaits review (1 if it failed or was
 * cancelled).
 * @module
 */
import { type AgentCreateParams, EFFORTS, PRIORITIES } from "@hero/sdk";
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import type { Command } from "./command.ts";
import { intOption, isOneOf, parseCommandArgs } from "./_parse.ts";
import { printTranscript } from "./_transcript.ts";

const USAGE = `Usage: hero_orchestrator run --cwd DIR [options] <prompt | ->

Creates an agent running claude on the prompt ("-" reads it from stdin) in DIR.
  --cwd DIR      absolute working directory (default: the current directory, when readable)
  --model M      model id (default: the server's, see \`hero_orchestrator doctor\`)
  --effort E     none, low, medium, high, xhigh or max
  --name N       display name
  --planner      run as a planner (plan first; execute with a follow-up)
  --permission-mode M
                 bypassPermissions (default), acceptEdits, default or plan; any but the
                 first asks before tools run (\`hero_orchestrator approvals\`)
  --priority P   high, normal or low: the queue order when slots or quota headroom free up
  --max-cost USD pause the agent (never kill it) once its cost reaches USD
  --max-turns N  pause the agent once its API round trips reach N
  --isolation worktree|none
                 worktree: a git worktree and branch of its own; none: DIR itself (default:
                 the server's, worktree when DIR is in a git work tree)
  --base REF     with a worktree: the branch (or commit) to start from (default HEAD)
  --branch NAME  with a worktree: the branch's name (default hero/<name>-<id>)
  --fetch        with a worktree: fetch the base branch's upstream first, start from its tip
  --wait         stream the transcript and wait until the agent settles; exit 1 unless it
                 reaches awaiting_review or completed
  --json         print the agent row as JSON (with --wait: the final row, no transcript)
  -h, --help     print this help`;

async function readStdin(): Promise<string> {
  return (await new Response(Deno.stdin.readable).text()).trim();
}

const PERMISSION_MODES = ["bypassPermissions", "acceptEdits", "default", "plan"] as const;

function defaultCwd(): string {
  try {
    return Deno.cwd();
  } catch {
    throw new UsageError("--cwd is required (the current directory is not readable here)", "run");
  }
}

export const run: Command = {
  name: "run",
  summary: "start an agent (--wait streams it to the end)",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("run", args, {
      cwd: { type: "string" },
      model: { type: "string" },
      effort: { type: "string" },
      name: { type: "string" },
      planner: { type: "boolean" },
      "permission-mode": { type: "string" },
      priority: { type: "string" },
      "max-cost": { type: "string" },
      "max-turns": { type: "string" },
      isolation: { type: "string" },
      base: { type: "string" },
      branch: { type: "string" },
      fetch: { type: "boolean" },
      wait: { type: "boolean" },
      json: { type: "boolean" },
    }, { min: 1, max: 1, names: "the prompt" });
    const effort = values.effort;
    if (effort !== undefined && !isOneOf(EFFORTS, effort)) {
      throw new UsageError(
        `--effort "${values.effort}" is not one of ${EFFORTS.join(", ")}`,
        "run",
      );
    }
    const prompt = positionals[0] === "-" ? await readStdin() : positionals[0]!;
    if (prompt.length === 0) throw new UsageError("the prompt is empty", "run");
    const params: AgentCreateParams = { prompt, cwd: values.cwd ?? defaultCwd() };
    if (values.model) params.model = values.model;
    if (effort) params.effort = effort;
    if (values.name) params.name = values.name;
    if (values.planner) params.kind = "planner";
    const mode = values["permission-mode"];
    if (mode !== undefined) {
      if (!isOneOf(PERMISSION_MODES, mode)) {
        throw new UsageError(
          `--permission-mode "${mode}" is not one of ${PERMISSION_MODES.join(", ")}`,
          "run",
        );
      }
      params.permission_mode = mode;
    }
    if (values.priority !== undefined) {
      if (!isOneOf(PRIORITIES, values.priority)) {
        throw new UsageError(
          `--priority "${values.priority}" is not one of ${PRIORITIES.join(", ")}`,
          "run",
        );
      }
      params.priority = values.priority;
    }
    if (values["max-cost"] !== undefined) {
      const cost = Number(values["max-cost"]);
      if (!Number.isFinite(cost) || cost <= 0) {
        throw new UsageError(
          `--max-cost must be a number above 0, got "${values["max-cost"]}"`,
          "run",
        );
      }
      params.max_cost_usd = cost;
    }
    const turns = intOption("run", "max-turns", values["max-turns"]);
    if (turns !== undefined) params.max_turns = turns;
    const isolation = values.isolation;
    if (isolation !== undefined) {
      if (isolation !== "worktree" && isolation !== "none") {
        throw new UsageError(`--isolation must be worktree or none, not "${isolation}"`, "run");
      }
      params.isolation = isolation;
    }
    if (values.base !== undefined) params.base_ref = values.base;
    if (values.branch !== undefined) params.branch = values.branch;
    if (values.fetch) params.fetch = true;
    const client = ctx.client();
    let agent = await client.agent.create(params);
    if (!values.wait) {
      ctx.stdout.write(values.json ? JSON.stringify(agent, null, 2) + "\n" : `${agent.id}\n`);
      return 0;
    }
    if (!values.json) ctx.stderr.write(`agent ${agent.id} ${agent.status}\n`);
    agent = await printTranscript(ctx, agent.id, {
      follow: true,
      format: values.json ? "none" : "text",
    });
    agent = await client.agent.get({ id: agent.id });
    if (values.json) ctx.stdout.write(JSON.stringify(agent, null, 2) + "\n");
    else {
      const detail = agent.error_code ? `: ${agent.error_code} ${agent.error_message ?? ""}` : "";
      ctx.stderr.write(`agent ${agent.id} ${agent.status}${detail}\n`);
      if (agent.error_fix) ctx.stderr.write(`fix: ${agent.error_fix}\n`);
    }
    return agent.status === "awaiting_review" || agent.status === "completed" ? 0 : 1;
  },
};
