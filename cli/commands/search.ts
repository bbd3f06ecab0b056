/**
 * `hero_orchestrator search`: full-text search over every agent's prompts, answers and tool calls
 * (`search.query`), as a list grouped by agent or JSON.
 * @module
 */
import type { SearchHit, SearchQueryParams, SnippetPart } from "@hero/sdk";
import type { Colors } from "../color.ts";
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import type { Command } from "./command.ts";
import { age } from "./_format.ts";
import { intOption, parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator search [options] <query...>

Searches prompts, answers, tool calls and agent names, newest first.
  words all must match; "a phrase" in order; prefix* ; -word leaves lines out
  (quote the query for your shell: search '"exact phrase" -draft')
  --cwd DIR      only agents working in DIR
  --limit N      at most N hits (1..100, default 20)
  --cursor C     continue after a previous page (its next_cursor)
  --json         print the page as JSON: {"hits": [...], "total": ..., "next_cursor": ...}
  -h, --help     print this help`;

/** A snippet for the terminal: matches in bold, control characters made visible. */
export function renderSnippet(parts: readonly SnippetPart[], c: Colors): string {
  return parts.map((p) => {
    // A line's text may hold escape sequences: never let them reach the terminal.
    // deno-lint-ignore no-control-regex
    const text = p.text.replace(/[\x00-\x1f\x7f-\x9f]/g, " ");
    return p.match ? c.bold(c.yellow(text)) : text;
  }).join("");
}

function groupByAgent(hits: readonly SearchHit[]): SearchHit[][] {
  const groups = new Map<string, SearchHit[]>();
  for (const hit of hits) {
    const group = groups.get(hit.agent_id);
    if (group) group.push(hit);
    else groups.set(hit.agent_id, [hit]);
  }
  return [...groups.values()];
}

export const search: Command = {
  name: "search",
  summary: "full-text search over prompts, answers and tool calls",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("search", args, {
      cwd: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      json: { type: "boolean" },
    }, { min: 1, max: Infinity, names: "the query" });
    const q = positionals.join(" ").trim();
    if (q.length === 0) throw new UsageError("missing the query", "search");
    const limit = intOption("search", "limit", values.limit);
    if (limit !== undefined && limit > 100) {
      throw new UsageError(`--limit must be at most 100, got "${values.limit}"`, "search");
    }
    const params: SearchQueryParams = { q };
    if (values.cwd) params.cwd = values.cwd;
    if (limit) params.limit = limit;
    if (values.cursor) params.cursor = values.cursor;
    const page = await ctx.client().search.query(params);
    if (values.json) {
      ctx.stdout.write(JSON.stringify(page, null, 2) + "\n");
      return 0;
    }
    const c = ctx.color;
    if (page.hits.length === 0) {
      ctx.stdout.write("no matches\n");
      return 0;
    }
    const out: string[] = [];
    for (const group of groupByAgent(page.hits)) {
      const first = group[0]!;
      out.push(`${c.bold(first.agent_id)}  ${first.name ?? ""}  ${c.dim(first.cwd)}`);
      for (const hit of group) {
        const where = hit.seq === null ? "agent" : `#${hit.seq}`;
        out.push(
          `  ${c.dim(`${where.padEnd(6)} ${age(hit.ts).padStart(4)} ${hit.field.padEnd(11)}`)} ${
            renderSnippet(hit.snippet, c)
          }`,
        );
      }
    }
    const more = page.total_capped ? `more than ${page.total}` : String(page.total);
    out.push(c.dim(`${more} match${page.total === 1 ? "" : "es"}`));
    ctx.stdout.write(out.join("\n") + "\n");
    if (page.next_cursor) ctx.stderr.write(`more: --cursor ${page.next_cursor}\n`);
    return 0;
  },
};
