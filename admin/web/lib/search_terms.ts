/**
 * The words of a search query to highlight in a transcript (the server's syntax: words,
 * `"phrases"`, `prefix*`, `-excluded`), and where they occur in a text. Case and accents are
 * ignored, as the index ignores them.
 * @module
 */

/** One term to highlight: its folded tokens, the last one a prefix when `prefix`. */
export interface HighlightTerm {
  tokens: string[];
  prefix: boolean;
}

const TOKEN = /[\p{L}\p{N}]+/gu;

function fold(token: string): string {
  return token.normalize("NFD").replace(/\p{M}+/gu, "").toLowerCase();
}

/** The terms of `q` worth highlighting (exclusions left out). Never throws. */
export function highlightTerms(q: string): HighlightTerm[] {
  const terms: HighlightTerm[] = [];
  const re = /(-?)(?:"([^"]*)"?|([^\s"]+))(\*?)/g;
  for (const m of q.matchAll(re)) {
    if (m[1] === "-") continue;
    let text = m[2] ?? m[3] ?? "";
    let prefix = m[4] === "*";
    if (text.endsWith("*")) {
      prefix = true;
      text = text.slice(0, -1);
    }
    const tokens = Array.from(text.matchAll(TOKEN), (t) => fold(t[0]));
    if (tokens.length > 0) terms.push({ tokens, prefix });
  }
  return terms;
}

/** Character ranges `[start, end)` of `text` where a term matches, in order, not overlapping. */
export function matchRanges(
  text: string,
  terms: readonly HighlightTerm[],
): Array<[number, number]> {
  const words = Array.from(text.matchAll(TOKEN), (m) => ({
    start: m.index!,
    end: m.index! + m[0].length,
    folded: fold(m[0]),
  }));
  const ranges: Array<[number, number]> = [];
  for (const term of terms) {
    const n = term.tokens.length;
    for (let w = 0; w + n <= words.length; w++) {
      let ok = true;
      for (let k = 0; k < n && ok; k++) {
        const got = words[w + k]!.folded;
        const want = term.tokens[k]!;
        ok = k === n - 1 && term.prefix ? got.startsWith(want) : got === want;
      }
      if (ok) ranges.push([words[w]!.start, words[w + n - 1]!.end]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}
