/** Contract types of `search.*`: hits, pages and the index status. */
import { z } from "zod";
import { AgentKind, AgentStatus } from "../models/mod.ts";

/** A piece of a search snippet; `match` marks the words that matched (render as text, not HTML). */
export const SnippetPart = z.object({
  text: z.string(),
  match: z.boolean(),
}).describe("a piece of a search snippet; `match` marks matching words").meta({
  id: "SnippetPart",
});

export const SearchHit = z.object({
  agent_id: z.string(),
  name: z.string().nullable(),
  cwd: z.string(),
  status: AgentStatus,
  kind: AgentKind,
  seq: z.number().int().nullable().describe(
    "the matching line; null when the agent's name or cwd matched",
  ),
  ts: z.number().int().describe(
    "when the line was received (the agent's creation for an agent hit), epoch ms",
  ),
  field: z.enum(["prompt", "assistant", "thinking", "tool", "tool_result", "agent"]).describe(
    "what the matching text is",
  ),
  snippet: z.array(SnippetPart).describe("the text around the first match, matches marked"),
}).describe("one matching line, or an agent whose name or cwd matched").meta({ id: "SearchHit" });
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchPage = z.object({
  hits: z.array(SearchHit).describe("newest lines first; agents whose name or cwd matched last"),
  total: z.number().int().describe("matches on all pages, counted up to 1000"),
  total_capped: z.boolean().describe("true when there are more than `total` matches"),
  next_cursor: z.string().nullable().describe(
    "pass as `cursor` for the next page; null at the end",
  ),
}).describe("one page of search hits").meta({ id: "SearchPage" });
export type SearchPage = z.infer<typeof SearchPage>;

export const SearchStatus = z.object({
  indexed_rowid: z.number().int().describe("the newest stored line the index covers (rowid)"),
  max_rowid: z.number().int().describe("the newest stored line (rowid)"),
  pending: z.number().int().describe("lines not indexed yet (at most; deleted lines leave gaps)"),
  ready: z.boolean().describe("every stored line is searchable"),
  rebuilt_at: z.number().int().nullable().describe("when the index was last rebuilt, epoch ms"),
  thinking: z.boolean().describe("thinking blocks are indexed"),
  integrity: z.string().nullable().describe(
    'FTS5 integrity-check: "ok" or the problem; null unless `check` was asked for',
  ),
}).describe("how far the full-text index is").meta({ id: "SearchStatus" });
export type SearchStatus = z.infer<typeof SearchStatus>;
