/**
 * `hero_orchestrator export <id>`: an agent's transcript on stdout, the stored lines verbatim
 * (JSONL) or as readable Markdown.
 * @module
 */
import type { CliContext } from "../context.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator export <id> [--markdown]

Writes an agent's transcript to stdout: every stored line byte for byte (JSONL, the default), or
with --markdown a readable document (prompts, answers, tool calls folded as code blocks, a cost
summary). Redirect it to keep it: \`hero_orchestrator export ID > agent.jsonl\`.
  --markdown  a readable Markdown transcript instead of the raw lines
  -h, --help  print this help`;

/** The server could not produce the export. */
export class ExportError extends Error {
  override name = "ExportError";
}

export const exportCommand: Command = {
  name: "export",
  summary: "write an agent's transcript (JSONL or Markdown) to stdout",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("export", args, {
      markdown: { type: "boolean" },
    }, { min: 1, max: 1, names: "the agent id" });
    const where = await ctx.client().agent.export({
      id: positionals[0]!,
      format: values.markdown ? "markdown" : "jsonl",
    });
    const res = await ctx.fetch(where.path);
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ExportError(
        `Cannot export agent "${positionals[0]}": the server answered ${res.status}`,
      );
    }
    for await (const chunk of res.body) ctx.stdout.writeBytes(chunk);
    return 0;
  },
};
