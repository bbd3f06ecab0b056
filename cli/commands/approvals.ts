/**
 * The approval inbox from a terminal: `hero_orchestrator approvals` lists permission prompts
 * waiting for a person (`--all`: every state), `approve <id>` and `deny <id>` answer one, exactly
 * once (an approval answered elsewhere, timed out or expired is refused, exit 1).
 * @module
 */
import type { Approval } from "@hero/sdk";
import type { CliContext } from "../context.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs } from "./_parse.ts";

const LIST_USAGE = `Usage: hero_orchestrator approvals [--agent ID] [--all] [--json]

Lists permission prompts waiting for an answer (agents not in bypassPermissions mode ask before
tools run), oldest first: id, agent, tool, and what it would do.
  --agent ID  only this agent's
  --all       every state (allowed, denied, expired, cancelled too), newest first
  --json      print the approvals as JSON
  -h, --help  print this help`;

const APPROVE_USAGE = `Usage: hero_orchestrator approve <id> [--session] [--json]

Allows a pending permission prompt: the tool runs.
  --session   also allow what claude suggested for the rest of this run
  --json      print the approval as JSON
  -h, --help  print this help`;

const DENY_USAGE = `Usage: hero_orchestrator deny <id> [--message TEXT] [--json]

Denies a pending permission prompt: the tool does not run and the model is told why.
  --message TEXT  what the model is told (default: denied by the operator)
  --json          print the approval as JSON
  -h, --help      print this help`;

function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** What the tool would do, in one line: the command, the file, or the input. */
export function approvalSummary(a: Approval): string {
  const input = a.input as Record<string, unknown>;
  if (typeof input.command === "string") return oneLine(`$ ${input.command}`);
  if (typeof input.file_path === "string") return oneLine(input.file_path);
  return oneLine(JSON.stringify(input));
}

export const approvals: Command = {
  name: "approvals",
  summary: "list permission prompts waiting for an answer",
  usage: LIST_USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseCommandArgs("approvals", args, {
      agent: { type: "string" },
      all: { type: "boolean" },
      json: { type: "boolean" },
    }, { min: 0, max: 0, names: "nothing" });
    const list = await ctx.client().approval.list({
      ...(values.agent ? { agent_id: values.agent } : {}),
      ...(values.all ? {} : { state: "pending" as const }),
    });
    const rows = values.all ? list.approvals : [...list.approvals].reverse();
    if (values.json) {
      ctx.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      return 0;
    }
    if (rows.length === 0) {
      ctx.stderr.write(values.all ? "no approvals\n" : "nothing waits for an answer\n");
      return 0;
    }
    for (const a of rows) {
      const state = values.all ? ` ${a.state}` : "";
      ctx.stdout.write(`${a.id} ${a.agent_id} ${a.tool_name}${state} ${approvalSummary(a)}\n`);
    }
    return 0;
  },
};

function answerCommand(decision: "allow" | "deny"): Command {
  const name = decision === "allow" ? "approve" : "deny";
  return {
    name,
    summary: decision === "allow"
      ? "allow a pending permission prompt"
      : "deny a pending permission prompt",
    usage: decision === "allow" ? APPROVE_USAGE : DENY_USAGE,
    async run(args: string[], ctx: CliContext): Promise<number> {
      const { values, positionals } = parseCommandArgs(name, args, {
        json: { type: "boolean" },
        ...(decision === "allow"
          ? { session: { type: "boolean" as const } }
          : { message: { type: "string" as const } }),
      }, { min: 1, max: 1, names: "the approval id" });
      const v = values as { json?: boolean; session?: boolean; message?: string };
      const answered = await ctx.client().approval.respond({
        id: positionals[0]!,
        decision,
        answered_by: "cli",
        ...(v.session ? { remember: "session" as const } : {}),
        ...(v.message ? { message: v.message } : {}),
      });
      ctx.stdout.write(
        v.json ? JSON.stringify(answered, null, 2) + "\n" : `${answered.id} ${answered.state}\n`,
      );
      return 0;
    },
  };
}

export const approve: Command = answerCommand("allow");
export const deny: Command = answerCommand("deny");
