/**
 * Search hits grouped by agent, each a link to its line in the transcript. Snippets are rendered
 * as text nodes with `<mark>` around the matches: a line's text never becomes markup.
 * @module
 */
import type { SearchHit, SearchPage, SnippetPart } from "@hero/sdk";
import { formatDateTime } from "../lib/format.ts";
import { cleanText, oneLine } from "../lib/sanitize.ts";
import { hitHref } from "../state/search.ts";

const FIELD_LABEL: Record<SearchHit["field"], string> = {
  prompt: "Prompt",
  assistant: "Answer",
  thinking: "Thinking",
  tool: "Tool call",
  tool_result: "Tool output",
  agent: "Agent",
};

/** A snippet with its matches marked. */
export function Snippet({ parts }: { parts: readonly SnippetPart[] }) {
  return (
    <span class="search-snippet">
      {parts.map((p, i) => p.match ? <mark key={i}>{cleanText(p.text)}</mark> : cleanText(p.text))}
    </span>
  );
}

function groups(hits: readonly SearchHit[]): SearchHit[][] {
  const byAgent = new Map<string, SearchHit[]>();
  for (const hit of hits) {
    const group = byAgent.get(hit.agent_id);
    if (group) group.push(hit);
    else byAgent.set(hit.agent_id, [hit]);
  }
  return [...byAgent.values()];
}

/** Props of {@linkcode SearchResults}. */
export interface SearchResultsProps {
  page: SearchPage;
  q: string;
  /** Called when a hit link is followed (e.g. to close a popup). */
  onOpen?(): void;
}

/** The hits of one or more pages, grouped by agent in the order of their newest hit. */
export function SearchResults({ page, q, onOpen }: SearchResultsProps) {
  if (page.hits.length === 0) return <p class="meta search-empty">No matches.</p>;
  return (
    <div class="search-results" data-testid="search-results">
      {groups(page.hits).map((group) => {
        const first = group[0]!;
        return (
          <section class="search-group" key={first.agent_id} data-agent={first.agent_id}>
            <h3 class="search-agent">
              <a href={hitHref(first.agent_id, null, q)} onClick={onOpen}>
                {oneLine(first.name || first.agent_id, 120)}
              </a>
              <span class="meta mono">{oneLine(first.cwd, 200)}</span>
            </h3>
            <ul class="search-hits">
              {group.map((hit) => (
                <li key={`${hit.seq}`}>
                  <a
                    class="search-hit"
                    href={hitHref(hit.agent_id, hit.seq, q)}
                    onClick={onOpen}
                    data-seq={hit.seq ?? ""}
                  >
                    <span class="search-meta meta">
                      {FIELD_LABEL[hit.field]}
                      {hit.seq !== null ? ` · #${hit.seq}` : ""} · {formatDateTime(hit.ts)}
                    </span>
                    <Snippet parts={hit.snippet} />
                  </a>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}
