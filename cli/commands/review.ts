/**
 * Review of an agent's changes: `diff <id> [--stat]` (coloured on a terminal only), `merge <id>`
 * (its branch into the base branch, `agent.complete {merge: true}`) and `discard <id>` (its
 * worktree and branch go). Nothing is ever pushed.
 * @module
 */
import { type AgentDiff, DIFF_STATUS_LETTER } from "@hero/sdk";
import type { Colors } from "../color.ts";
import type { CliContext } from "../context.ts";
import type { Command } from "./command.ts";
import { intOption, parseCommandArgs } from "./_parse.ts";
import { UsageError } from "../fail.ts";

const DIFF_USAGE = `Usage: hero_orchestrator diff <id> [--stat] [--context N] [--json]

Shows an agent's changes against its base: everything on its branch and in its worktree
(committed, uncommitted, untracked), or, for an agent in its cwd, the files it changed.
  --stat        only the file list with +/- counts
  --context N   lines of context (default 3)
  --json        print the answer as JSON
  -h, --help    print this help`;

/** The `--stat` lines: status letter, path, +/- (or "binary"), then the totals. */
export function formatStat(diff: AgentDiff, c: Colors): string {
  const lines = diff.files.map((f) => {
    const counts = f.binary
      ? c.dim("binary")
      : `${c.green(`+${f.additions}`)} ${c.red(`-${f.deletions}`)}`;
    const path = f.old_path ? `${f.old_path} → ${f.path}` : f.path;
    return `${DIFF_STATUS_LETTER[f.status] ?? "?"} ${path}  ${counts}`;
  });
  const noun = diff.files.length === 1 ? "file" : "files";
  lines.push(
    `${diff.files.length} ${noun} changed, ${c.green(`+${diff.additions}`)} ${
      c.red(`-${diff.deletions}`)
    }`,
  );
  for (const p of diff.entangled) lines.push(c.yellow(`(not shown: ${p} was already dirty)`));
  return lines.join("\n") + "\n";
}

/** A unified diff, coloured by line kind when colour is on. */
export function colorPatch(text: string, c: Colors): string {
  if (!c.enabled) return text;
  return text.split("\n").map((line) => {
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ")) {
      return c.bold(line);
    }
    if (line.startsWith("@@")) return c.dim(line);
    if (line.startsWith("+")) return c.green(line);
    if (line.startsWith("-")) return c.red(line);
    return line;
  }).join("\n");
}

export const diff: Command = {
  name: "diff",
  summary: "show an agent's changes against its base",
  usage: DIFF_USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      "diff",
      args,
      { stat: { type: "boolean" }, context: { type: "string" }, json: { type: "boolean" } },
      { min: 1, max: 1, names: "the agent id" },
    );
    const context = values.context === "0" ? 0 : intOption("diff", "context", values.context);
    const answer = await ctx.client().agent.diff({
      id: positionals[0]!,
      patches: !values.stat,
      ...(context !== undefined ? { context } : {}),
    });
    if (values.json) {
      ctx.stdout.write(JSON.stringify(answer, null, 2) + "\n");
      return 0;
    }
    if (values.stat) {
      ctx.stdout.write(formatStat(answer, ctx.color));
      return 0;
    }
    for (const file of answer.files) {
      if (file.patch) ctx.stdout.write(colorPatch(file.patch.text, ctx.color));
    }
    return 0;
  },
};

const MERGE_USAGE = `Usage: hero_orchestrator merge <id> [--strategy merge|squash|rebase] [--json]

Accepts an isolated agent's work: commits what is uncommitted in its worktree, brings its branch
into the base branch (fast-forward when possible, else the strategy; default merge), and removes
the worktree and branch. On a conflict nothing changes and the files are listed.
  --strategy S  merge, squash or rebase
  --json        print the answer as JSON
  -h, --help    print this help`;

export const merge: Command = {
  name: "merge",
  summary: "merge an isolated agent's branch into its base branch",
  usage: MERGE_USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      "merge",
      args,
      { strategy: { type: "string" }, json: { type: "boolean" } },
      { min: 1, max: 1, names: "the agent id" },
    );
    const strategy = values.strategy;
    if (strategy !== undefined && !["merge", "squash", "rebase"].includes(strategy)) {
      throw new UsageError(
        `--strategy must be merge, squash or rebase, got "${strategy}"`,
        "merge",
      );
    }
    const done = await ctx.client().agent.complete({
      id: positionals[0]!,
      merge: true,
      ...(strategy ? { strategy: strategy as "merge" | "squash" | "rebase" } : {}),
    });
    if (values.json) {
      ctx.stdout.write(JSON.stringify(done, null, 2) + "\n");
      return 0;
    }
    const m = done.merge!;
    const base = m.base_ref.replace(/^refs\/heads\//, "");
    ctx.stdout.write(
      m.kind === "up_to_date"
        ? `${done.id} ${done.status}: ${base} already had ${m.branch}\n`
        : `${done.id} ${done.status}: ${m.branch} → ${base} (${m.kind.replace("_", "-")}) ${
          m.previous.slice(0, 12)
        }..${m.sha.slice(0, 12)}\n`,
    );
    return 0;
  },
};

const DISCARD_USAGE = `Usage: hero_orchestrator discard <id> [--force] [--json]

Throws an isolated agent's work away: removes its worktree and branch. Refused when they hold
work that is not merged, unless --force. An agent in review ends cancelled.
  --force     throw unmerged work away
  --json      print the agent row as JSON
  -h, --help  print this help`;

export const discard: Command = {
  name: "discard",
  summary: "remove an isolated agent's worktree and branch",
  usage: DISCARD_USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      "discard",
      args,
      { force: { type: "boolean" }, json: { type: "boolean" } },
      { min: 1, max: 1, names: "the agent id" },
    );
    const agent = await ctx.client().agent.discard({
      id: positionals[0]!,
      force: values.force === true,
    });
    ctx.stdout.write(
      values.json ? JSON.stringify(agent, null, 2) + "\n" : `${agent.id} ${agent.status}\n`,
    );
    return 0;
  },
};
