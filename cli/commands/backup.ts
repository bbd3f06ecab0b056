/**
 * `hero_orchestrator backup`: asks the server for an online backup of its database
 * (`system.backup`, `VACUUM INTO`) and prints where it went.
 * @module
 */
import type { CliContext } from "../context.ts";
import type { Command } from "./command.ts";
import { parseCommandArgs } from "./_parse.ts";

const USAGE = `Usage: hero_orchestrator backup [--path FILE] [--json]

Writes a consistent copy of the server's database while it runs (SQLite online backup), by default to
<PATH_VAR>/hero_orchestrator/backups/db-<UTC timestamp>.sqlite (mode 0600).
To restore: stop the server, copy the backup over db.sqlite (and remove db.sqlite-wal and
db.sqlite-shm), start it.
  --path FILE  write here instead (absolute; must not exist; under the server's state dir)
  --json       print the result as JSON
  -h, --help   print this help`;

export const backup: Command = {
  name: "backup",
  summary: "write an online backup of the server's database",
  usage: USAGE,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseCommandArgs(
      "backup",
      args,
      { json: { type: "boolean" }, path: { type: "string" } },
      { min: 0, max: 0, names: "no arguments" },
    );
    const result = await ctx.client().system.backup(
      typeof values.path === "string" ? { path: values.path } : {},
    );
    ctx.stdout.write(
      values.json
        ? JSON.stringify(result, null, 2) + "\n"
        : `${result.path} (${result.bytes} bytes)\n`,
    );
    return 0;
  },
};
