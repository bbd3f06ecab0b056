/**
 * A search hit opened in the transcript (`/agents/<id>?seq=N&q=…`): which row to scroll to, and
 * the query's words highlighted in that row with the CSS Custom Highlight API (no change to the
 * rendered markup, so nothing of the line's text is ever reinterpreted as HTML).
 * @module
 */
import { useEffect } from "preact/hooks";
import { highlightTerms, matchRanges } from "../lib/search_terms.ts";

/** The hit to show. */
export interface SearchTarget {
  seq: number;
  q: string;
}

/** Name of the highlight (styled by `::highlight(search-match)` in app.css). */
export const HIGHLIGHT_NAME = "search-match";

/** The target of the page URL's `seq` and `q`, or undefined. */
export function searchTargetFromUrl(search: string): SearchTarget | undefined {
  const p = new URLSearchParams(search);
  const seq = Number(p.get("seq"));
  if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
  return { seq, q: p.get("q") ?? "" };
}

/** The last row key at or before `seq` (keys ascending), or undefined. */
function keyAtOrBefore(keys: readonly number[], seq: number): number | undefined {
  let found: number | undefined;
  for (const key of keys) {
    if (key > seq) break;
    found = key;
  }
  return found;
}

interface HighlightRegistry {
  set(name: string, value: unknown): void;
  delete(name: string): void;
}

function highlightRow(row: HTMLElement, q: string): number {
  const registry = (globalThis.CSS as unknown as { highlights?: HighlightRegistry }).highlights;
  const HighlightCtor = (globalThis as unknown as { Highlight?: new (...r: Range[]) => unknown })
    .Highlight;
  if (!registry || !HighlightCtor) return 0;
  const terms = highlightTerms(q);
  const ranges: Range[] = [];
  if (terms.length > 0) {
    const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.nodeValue ?? "";
      for (const [start, end] of matchRanges(text, terms)) {
        const range = document.createRange();
        range.setStart(node, start);
        range.setEnd(node, end);
        ranges.push(range);
      }
    }
  }
  registry.set(HIGHLIGHT_NAME, new HighlightCtor(...ranges));
  return ranges.length;
}

/**
 * The row key to scroll to for `target`, given the rows' keys; after every render, marks that row
 * (`data-search-target`) and highlights the query's words in it.
 */
export function useSearchTarget(
  target: SearchTarget | undefined,
  keys: readonly number[],
): number | undefined {
  const key = target ? keyAtOrBefore(keys, target.seq) : undefined;
  useEffect(() => {
    if (!target || key === undefined) return;
    const row = document.querySelector<HTMLElement>(`.transcript .vrow[data-key="${key}"]`);
    if (!row) return;
    row.dataset.searchTarget = "";
    row.dataset.highlights = String(highlightRow(row, target.q));
  });
  return key;
}
