/**
 * `hero_orchestrator agents`: lists agents with the filters of `agent.list`, as a table or JSON.
 * @module
 */
import type { AgentBucket, AgentKind, AgentListParams, AgentStatus } from "@hero/sdk";
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import type { Command } from "./command.ts";
import { agentTable } from "./_format.ts";
import { intOption, parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator agents [options]

Lists agents, newest first (the filters of agent.list).
  --status S     only these statuses (repeat or comma separate): queued, running,
                 awaiting_review, completed, failed, cancelled
  --bucket B     running, awaiting_review or completed
  --kind K       only these kinds (repeat or comma separate): standard, planner, shadow
  --cwd DIR      only agents working in DIR
  --limit N      page size (default: the server's)
  --cursor C     continue after a previous page (its next_cursor)
  --all          follow every page
  --json         print the page(s) as JSON: {"agents": [...], "next_cursor": ...}
  -h, --help     print this help`;

const STATUSES = ["queued", "running", "awaiting_review", "completed", "failed", "cancelled"];
const BUCKETS = ["running", "awaiting_review", "completed"];
const KINDS = ["standard", "planner", "shadow"];

function listOf(raw: string[] | undefined, allowed: string[], name: string): string[] | undefined {
  if (!raw) return undefined;
  const values = raw.flatMap((r) => r.split(",")).map((s) => s.trim()).filter(Boolean);
  for (const v of values) {
    if (!allowed.includes(v)) {
      throw new UsageError(`--${name} "${v}" is not one of ${allowed.join(", ")}`, "agents");
    }
  }
  return values;
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
    if (values.bucket !== undefined && !BUCKETS.includes(values.bucket)) {
      throw new UsageError(
        `--bucket "${values.bucket}" is not one of ${BUCKETS.join(", ")}`,
        "agents",
      );
    }
    const params: AgentListParams = {};
    const status = listOf(values.status, STATUSES, "status");
    const kind = listOf(values.kind, KINDS, "kind");
    const limit = intOption("agents", "limit", values.limit);
    if (status) params.status = status as AgentStatus[];
    if (kind) params.kind = kind as AgentKind[];
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
