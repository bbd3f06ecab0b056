/**
 * `hero_orchestrator agents`: lists agents with the filters of `agent.list`, as a table or JSON.
 * @module
 */
import {
  AGENT_BUCKETS,
  AGENT_KINDS,
  AGENT_STATUSES,
  type AgentBucket,
  type AgentListParams,
} from "@hero/sdk";
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import type { Command } from "./command.ts";
import { agentTable } from "./_format.ts";
import { intOption, isOneOf, parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator agents [options]

Lists agents, newest first (the filters of agent.list).
  --status S     only these statuses (repeat or comma separate): queued, running,
                 awaiting_review, completed, failed, cancelled
  --bucket B     running, awaiting_review or completed
  --kind K       only these kinds (repeat or comma separate): standard, planner, imported,
                 shadow (default: all but shadow, the service's own naming and commit runs)
  --cwd DIR      only agents working in DIR
  --limit N      page size (default: the server's)
  --cursor C     continue after a previous page (its next_cursor)
  --all          follow every page
  --json         print the page(s) as JSON: {"agents": [...], "next_cursor": ...}
  -h, --help     print this help`;

function listOf<T extends string>(
  raw: string[] | undefined,
  allowed: readonly T[],
  name: string,
): T[] | undefined {
  if (!raw) return undefined;
  const values = raw.flatMap((r) => r.split(",")).map((s) => s.trim()).filter(Boolean);
  return values.map((v) => {
    if (!isOneOf(allowed, v)) {
      throw new UsageError(`--${name} "${v}" is not one of ${allowed.join(", ")}`, "agents");
    }
    return v;
  });
}

export const agents: Command = {
  name: "agents",
  summary: "list agents (table or --json)",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseCommandArgs("agents", args, {
      status: { type: "string", multiple: true },
      bucket: { type: "string" },
      kind: { type: "string", multiple: true },
      cwd: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      all: { type: "boolean" },
      json: { type: "boolean" },
    }, { min: 0, max: 0, names: "" });
    if (values.bucket !== undefined && !isOneOf(AGENT_BUCKETS, values.bucket)) {
      throw new UsageError(
        `--bucket "${values.bucket}" is not one of ${AGENT_BUCKETS.join(", ")}`,
        "agents",
      );
    }
    const params: AgentListParams = {};
    const status = listOf(values.status, AGENT_STATUSES, "status");
    const kind = listOf(values.kind, AGENT_KINDS, "kind");
    const limit = intOption("agents", "limit", values.limit);
    if (status) params.status = status;
    // Shadows (naming, commit messages) are the service's own runs: listed only when asked for.
    params.kind = kind ?? AGENT_KINDS.filter((k) => k !== "shadow");
    if (values.bucket) params.bucket = values.bucket as AgentBucket;
    if (values.cwd) params.cwd = values.cwd;
    if (limit) params.limit = limit;
    if (values.cursor) params.cursor = values.cursor;
    const client = ctx.client();
    let page = await client.agent.list(params);
    const all = [...page.agents];
    while (values.all && page.next_cursor) {
      page = await client.agent.list({ ...params, cursor: page.next_cursor });
      all.push(...page.agents);
    }
    if (values.json) {
      ctx.stdout.write(
        JSON.stringify({ agents: all, next_cursor: page.next_cursor }, null, 2) + "\n",
      );
      return 0;
    }
    if (all.length === 0) {
      ctx.stdout.write("no agents\n");
      return 0;
    }
    ctx.stdout.write(agentTable(all, ctx.color));
    if (page.next_cursor) {
      ctx.stderr.write(`more: --cursor ${page.next_cursor} (or --all)\n`);
    }
    return 0;
  },
};
