/**
 * `hero_orchestrator import [PATH] [--watch] [--json]`: adopt Claude Code sessions started
 * elsewhere (`session.import`). With `--watch`, keeps importing what live sessions append.
 * @module
 */
import type { CliContext } from "../context.ts";
import { UsageError } from "../fail.ts";
import type { Command } from "./command.ts";
import { intOption, parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator import [PATH] [--watch [--interval S]] [--json]

Imports Claude Code's session files (<claude config dir>/projects/<cwd>/<session>.jsonl, as the
server sees CLAUDE_CONFIG_DIR or ~/.claude) as read-only agents of kind "imported". Importing again
adds only new lines. PATH (absolute) narrows it to one session file or project folder.
  --watch        keep importing new lines every --interval seconds (default 2) until interrupted
  --interval S   seconds between imports with --watch
  --json         print each import's report as one JSON line
  -h, --help     print this help`;

export const importCommand: Command = {
  name: "import",
  summary: "import Claude Code sessions started elsewhere (read-only, continuable)",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseCommandArgs("import", args, {
      watch: { type: "boolean" },
      interval: { type: "string" },
      json: { type: "boolean" },
    }, { min: 0, max: 1, names: "a path" });
    const path = positionals[0];
    if (path !== undefined && !path.startsWith("/")) {
      throw new UsageError(`PATH must be absolute, got "${path}"`, "import");
    }
    const intervalMs = (intOption("import", "interval", values.interval) ?? 2) * 1000;
    let first = true;
    for (;;) {
      const report = await ctx.client().session.import(path !== undefined ? { path } : {});
      if (values.json) ctx.stdout.write(JSON.stringify(report) + "\n");
      else if (first || report.lines > 0 || report.malformed > 0 || report.errors.length > 0) {
        ctx.stdout.write(
          `${report.files} session files: ${report.created} new agents, ${report.lines} lines, ` +
            `${report.malformed} malformed lines skipped\n`,
        );
        for (const e of report.errors) ctx.stderr.write(`${e.path}: ${e.message}\n`);
      }
      first = false;
      if (!values.watch) return report.errors.length > 0 ? 1 : 0;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  },
};
