/**
 * The doctor's search-index lines: FTS5 problems found by `integrity_check` (the index is
 * rebuildable, so they are not a reason to restore a backup), the indexer's progress, and the
 * rebuild `doctor --rebuild-search` asks the server for.
 * @module
 */
import { CLI_COMMAND } from "@hero/core/models";
import type { CliContext } from "../context.ts";

/** Outcome of one check (the doctor's shape). */
export interface SearchCheck {
  id: string;
  status: "ok" | "warn" | "fail";
  message: string;
  fix?: string;
}

/** How to repair a damaged search index. */
export const REBUILD_SEARCH_FIX = `run \`${CLI_COMMAND} doctor --rebuild-search\` with the ` +
  "server running (the index is rebuilt from the stored lines)";

/** Whether an `integrity_check` row is about the full-text index only. */
export function isSearchIndexProblem(row: string): boolean {
  return /\bsearch_fts\b/.test(row);
}

/** The `search_index` check for integrity rows about the full-text index, or null when none. */
export function searchIntegrityCheck(rows: readonly string[]): SearchCheck | null {
  const problems = rows.filter(isSearchIndexProblem);
  if (problems.length === 0) return null;
  return {
    id: "search_index",
    status: "fail",
    message: `the full-text index is damaged: ${problems.join("; ").slice(0, 300)}`,
    fix: REBUILD_SEARCH_FIX,
  };
}

/** The indexer's progress, asked of the running server. */
export async function checkSearchProgress(ctx: CliContext): Promise<SearchCheck> {
  try {
    const s = await ctx.client().search.status({});
    const thinking = s.thinking ? ", thinking included" : "";
    if (s.ready) {
      return { id: "search_index", status: "ok", message: `up to date${thinking}` };
    }
    return {
      id: "search_index",
      status: "ok",
      message: `indexing in the background: ${s.pending} of ${s.max_rowid} lines to go${thinking}`,
    };
  } catch (err) {
    return {
      id: "search_index",
      status: "warn",
      message: `Cannot ask the server about the search index: ${
        err instanceof Error ? err.message : String(err)
      }`,
      fix: "upgrade the server to this version",
    };
  }
}

/** Asks the server to rebuild the index; prints what it says. */
export async function rebuildSearch(ctx: CliContext): Promise<number> {
  const s = await ctx.client().search.rebuild({});
  ctx.stdout.write(
    `search index: rebuilding in the background from ${s.max_rowid} stored lines ` +
      `(progress: \`${CLI_COMMAND} doctor\`)\n`,
  );
  return 0;
}
