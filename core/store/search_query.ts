/**
 * The user's search syntax, translated to an FTS5 expression that cannot be a syntax error: every
 * term is emitted as a quoted FTS5 string, so no user character is ever an FTS5 operator.
 *
 * - `word` — lines containing the word (case and accents ignored)
 * - `"a phrase"` — the words in this order
 * - `foo*` / `"a phr"*` — prefix of the (last) word
 * - `-word` / `-"a phrase"` — leave out lines that match
 *
 * Terms combine with AND; at least one term must not be an exclusion.
 * @module
 */

/** A query the syntax does not allow (unterminated quote, only exclusions, …). */
export class SearchSyntaxError extends SyntaxError {
  override name = "SearchSyntaxError";
  readonly code = "invalid_query";
}

/** One term of a parsed query. */
export interface SearchTerm {
  /** The normalised tokens of the term (lower case, no accents). */
  tokens: string[];
  prefix: boolean;
  exclude: boolean;
}

/** A parsed query: its FTS5 expression and its terms (for highlighting). */
export interface ParsedQuery {
  fts: string;
  terms: SearchTerm[];
}

/** At most this many terms in one query. */
export const MAX_TERMS = 32;

const TOKEN = /[\p{L}\p{N}]+/gu;

/** Lower case, accents removed: how the `unicode61 remove_diacritics 2` tokenizer folds tokens. */
export function foldToken(token: string): string {
  return token.normalize("NFD").replace(/\p{M}+/gu, "").toLowerCase();
}

/** The folded tokens of `text`, as the index sees them. */
export function tokensOf(text: string): string[] {
  return Array.from(text.matchAll(TOKEN), (m) => foldToken(m[0]));
}

function quoted(tokens: string[]): string {
  // Tokens hold letters and digits only, so no `"` needs escaping.
  return `"${tokens.join(" ")}"`;
}

/**
 * Parses `q`.
 * @throws {SearchSyntaxError} when the query is empty, has an unterminated quote, too many terms,
 * or only exclusions.
 */
export function parseSearchQuery(q: string): ParsedQuery {
  const terms: SearchTerm[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    let exclude = false;
    let j = i;
    if (q[j] === "-") {
      exclude = true;
      j++;
    }
    let text: string;
    if (q[j] === '"') {
      const end = q.indexOf('"', j + 1);
      if (end < 0) throw new SearchSyntaxError('Cannot search: a quote (") is not closed');
      text = q.slice(j + 1, end);
      j = end + 1;
    } else {
      let end = j;
      while (end < q.length && !/\s/.test(q[end]!) && q[end] !== '"') end++;
      text = q.slice(j, end);
      j = end;
    }
    let prefix = false;
    if (text.endsWith("*")) {
      prefix = true;
      text = text.slice(0, -1);
    } else if (q[j] === "*") {
      prefix = true;
      j++;
    }
    if (j < q.length && !/\s/.test(q[j]!) && q[j] !== '"') {
      throw new SearchSyntaxError(
        `Cannot search: unexpected "${q[j]}" after a term (separate terms with spaces)`,
      );
    }
    i = j;
    const tokens = tokensOf(text);
    // Punctuation alone (`-`, `*`, `::`) has nothing the index could match: ignore it.
    if (tokens.length === 0) continue;
    terms.push({ tokens, prefix, exclude });
    if (terms.length > MAX_TERMS) {
      throw new SearchSyntaxError(`Cannot search: more than ${MAX_TERMS} terms`);
    }
  }
  const include = terms.filter((t) => !t.exclude);
  const exclude = terms.filter((t) => t.exclude);
  if (include.length === 0) {
    throw new SearchSyntaxError(
      terms.length === 0
        ? "Cannot search: the query has no words"
        : "Cannot search: the query needs a word to look for, not only exclusions",
    );
  }
  const expr = (t: SearchTerm) => quoted(t.tokens) + (t.prefix ? "*" : "");
  let fts = include.map(expr).join(" AND ");
  if (exclude.length > 0) fts = `(${fts}) NOT (${exclude.map(expr).join(" OR ")})`;
  return { fts, terms };
}

/** One piece of a snippet: plain text, or text that matched the query. */
export interface SnippetPart {
  text: string;
  match: boolean;
}

/** Options for {@linkcode snippetOf}. */
export interface SnippetOptions {
  /** About how many characters of context. Default 160. */
  width?: number;
}

/**
 * A window of `text` around the first match of `terms`, split into parts with the matching words
 * marked. Parts are plain text: a UI renders them as text nodes (never as HTML).
 */
export function snippetOf(
  text: string,
  terms: readonly SearchTerm[],
  options: SnippetOptions = {},
): SnippetPart[] {
  const width = options.width ?? 160;
  const words = Array.from(text.matchAll(TOKEN), (m) => ({
    start: m.index!,
    end: m.index! + m[0].length,
    folded: foldToken(m[0]),
  }));
  // Character spans of the matches: a phrase is one span, so its inner spaces are marked too.
  const spans: Array<[number, number]> = [];
  for (const term of terms) {
    if (term.exclude) continue;
    const n = term.tokens.length;
    for (let w = 0; w + n <= words.length; w++) {
      let ok = true;
      for (let k = 0; k < n && ok; k++) {
        const want = term.tokens[k]!;
        const got = words[w + k]!.folded;
        ok = k === n - 1 && term.prefix ? got.startsWith(want) : got === want;
      }
      if (ok) spans.push([words[w]!.start, words[w + n - 1]!.end]);
    }
  }
  spans.sort((x, y) => x[0] - y[0]);
  const anchor = spans[0]?.[0] ?? 0;
  let start = Math.max(0, anchor - Math.floor(width / 3));
  if (start > 0) {
    const space = text.lastIndexOf(" ", start);
    start = space >= 0 && anchor - space < width / 2 ? space + 1 : start;
  }
  let end = Math.min(text.length, start + width);
  if (end < text.length) {
    const space = text.indexOf(" ", end);
    if (space >= 0 && space - end < 20) end = space;
  }
  const parts: SnippetPart[] = [];
  const push = (s: string, match: boolean) => {
    if (s.length === 0) return;
    const last = parts.at(-1);
    if (last && last.match === match) last.text += s;
    else parts.push({ text: s, match });
  };
  if (start > 0) push("…", false);
  let at = start;
  for (const [spanStart, spanEnd] of spans) {
    const s = Math.max(spanStart, at);
    const e = Math.min(spanEnd, end);
    if (e <= s) continue;
    push(text.slice(at, s).replace(/\s+/g, " "), false);
    push(text.slice(s, e), true);
    at = e;
  }
  push(text.slice(at, end).replace(/\s+/g, " "), false);
  if (end < text.length) push("…", false);
  return parts;
}
