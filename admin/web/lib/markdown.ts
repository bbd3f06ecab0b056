/**
 * A small, safe Markdown parser for agent output: text in, a plain tree out (no HTML strings,
 * ever). Raw HTML in the input stays literal text; links keep their URL only when it is an
 * absolute http(s)/mailto URL ({@linkcode safeHref}); images are never loaded, they become a
 * labelled link-like node (no beacons). Work is bounded: nesting depth, scan windows and
 * per-delimiter memo keep it linear-ish; very long input is left to the caller to show as text.
 *
 * Supported: paragraphs with line breaks, ATX headings, fenced code, block quotes, ordered and
 * unordered lists (nested), GFM tables, thematic breaks, `code`, *em*, **strong**, ~~del~~,
 * [links](url), ![images](url), <autolinks> and bare http(s) URLs, backslash escapes.
 * @module
 */
import { safeHref } from "./sanitize.ts";

/** Inline nodes. */
export type Inline =
  | { t: "text"; v: string }
  | { t: "code"; v: string }
  | { t: "em" | "strong" | "del"; c: Inline[] }
  | { t: "link"; url: string; href: string | null; c: Inline[] }
  | { t: "image"; url: string; href: string | null; alt: string }
  | { t: "br" };

/** Column alignment of a table. */
export type Align = "left" | "right" | "center" | null;

/** Block nodes. */
export type Block =
  | { t: "p"; c: Inline[] }
  | { t: "h"; level: number; c: Inline[] }
  | { t: "pre"; lang: string; v: string }
  | { t: "list"; ordered: boolean; start: number; items: Block[][] }
  | { t: "quote"; c: Block[] }
  | { t: "hr" }
  | { t: "table"; align: Align[]; head: Inline[][]; rows: Inline[][][] };

const MAX_DEPTH = 12;
const MAX_SCAN = 4000;
const MAX_TABLE_COLUMNS = 64;

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(?:([ \t]+)(.*)|$)/;
const TABLE_SEP = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

function isBlank(line: string): boolean {
  return line.trim() === "";
}

function indentOf(line: string): number {
  let n = 0;
  for (const c of line) {
    if (c === " ") n++;
    else if (c === "\t") n += 4 - (n % 4);
    else break;
  }
  return n;
}

/** Removes `n` columns of indentation. */
function dedent(line: string, n: number): string {
  let col = 0;
  let i = 0;
  while (i < line.length && col < n) {
    if (line[i] === " ") col++;
    else if (line[i] === "\t") col += 4 - (col % 4);
    else break;
    i++;
  }
  return line.slice(i);
}

function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || HR.test(line) || QUOTE.test(line) ||
    ITEM.test(line);
}

function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells: string[] = [];
  let cell = "";
  let inCode = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && s[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (c === "`") {
      inCode = !inCode;
      cell += c;
    } else if (c === "|" && !inCode) {
      cells.push(cell.trim());
      cell = "";
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells.slice(0, MAX_TABLE_COLUMNS);
}

function parseList(lines: string[], at: number, depth: number): [Block, number] {
  const first = ITEM.exec(lines[at]!)!;
  const ordered = /\d/.test(first[2]!);
  const bullet = ordered ? first[2]!.slice(-1) : first[2]!;
  const start = ordered ? Math.min(Number.parseInt(first[2]!, 10), 1e9) : 1;
  const items: Block[][] = [];
  let i = at;
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]!);
    if (!m) break;
    const marker = m[2]!;
    const sameKind = ordered ? /\d/.test(marker) && marker.slice(-1) === bullet : marker === bullet;
    if (!sameKind) break;
    const contentIndent = m[1]!.length + marker.length + Math.min((m[3] ?? " ").length, 4);
    const body = [m[4] ?? ""];
    i++;
    while (i < lines.length) {
      const line = lines[i]!;
      if (isBlank(line)) {
        let j = i + 1;
        while (j < lines.length && isBlank(lines[j]!)) j++;
        if (j < lines.length && indentOf(lines[j]!) >= contentIndent) {
          for (; i < j; i++) body.push("");
          continue;
        }
        break;
      }
      if (indentOf(line) >= contentIndent) {
        body.push(dedent(line, contentIndent));
        i++;
        continue;
      }
      if (startsBlock(line)) break;
      body.push(line.trim()); // lazy continuation of the item's paragraph
      i++;
    }
    items.push(parseBlocks(body, depth + 1));
    // A blank line between items keeps the list going.
    let j = i;
    while (j < lines.length && isBlank(lines[j]!)) j++;
    if (j < lines.length && j !== i && ITEM.test(lines[j]!)) i = j;
  }
  return [{ t: "list", ordered, start, items }, i];
}

function parseBlocks(lines: string[], depth: number): Block[] {
  const out: Block[] = [];
  if (depth > MAX_DEPTH) {
    const text = lines.join("\n").trim();
    if (text) out.push({ t: "p", c: [{ t: "text", v: text }] });
    return out;
  }
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (isBlank(line)) {
      i++;
      continue;
    }
    let m = FENCE.exec(line);
    if (m) {
      const fence = m[1]!;
      const indent = indentOf(line);
      const body: string[] = [];
      i++;
      const close = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}[ \\t]*$`);
      while (i < lines.length && !close.test(lines[i]!)) body.push(dedent(lines[i++]!, indent));
      i++; // the closing fence (or past the end)
      out.push({ t: "pre", lang: m[2] ?? "", v: body.join("\n") });
      continue;
    }
    m = HEADING.exec(line);
    if (m) {
      out.push({ t: "h", level: m[1]!.length, c: parseInline(m[2] ?? "", depth) });
      i++;
      continue;
    }
    if (HR.test(line)) {
      out.push({ t: "hr" });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && !isBlank(lines[i]!)) {
        const q = QUOTE.exec(lines[i]!);
        if (q) body.push(q[1]!);
        else if (startsBlock(lines[i]!)) break;
        else body.push(lines[i]!);
        i++;
      }
      out.push({ t: "quote", c: parseBlocks(body, depth + 1) });
      continue;
    }
    if (ITEM.test(line)) {
      const [list, next] = parseList(lines, i, depth);
      out.push(list);
      i = next;
      continue;
    }
    const next = lines[i + 1];
    if (line.includes("|") && next !== undefined && TABLE_SEP.test(next) && next.includes("-")) {
      const head = splitRow(line);
      const align: Align[] = splitRow(next).map((cell) => {
        const left = cell.startsWith(":");
        const right = cell.endsWith(":");
        return left && right ? "center" : right ? "right" : left ? "left" : null;
      });
      i += 2;
      const rows: Inline[][][] = [];
      while (i < lines.length && !isBlank(lines[i]!) && lines[i]!.includes("|")) {
        const cells = splitRow(lines[i]!);
        rows.push(head.map((_, k) => parseInline(cells[k] ?? "", depth)));
        i++;
      }
      out.push({
        t: "table",
        align: head.map((_, k) => align[k] ?? null),
        head: head.map((cell) => parseInline(cell, depth)),
        rows,
      });
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length && !isBlank(lines[i]!) && (para.length === 0 || !startsBlock(lines[i]!))
    ) {
      para.push(lines[i]!.replace(/^[ \t]+/, ""));
      i++;
    }
    out.push({ t: "p", c: parseInline(para.join("\n").replace(/[ \t]+$/, ""), depth) });
  }
  return out;
}

/** State shared by one inline parse: delimiters known to have no closer after some point. */
interface InlineState {
  /** Per delimiter and text: a stretch known to hold no closer, and where none is left at all. */
  closers: Map<string, { text: string; lo: number; hi: number; none: number }>;
  /** Per text: the `]` matching each `[` (-1: none), computed once in one pass. */
  brackets: Map<string, Int32Array>;
}

/**
 * The matching `]` of every `[` in `s` (escapes skipped, a blank line ends every open bracket),
 * in one pass: scanning ahead from each `[` instead made a run of brackets quadratic.
 */
function bracketPairs(s: string, state: InlineState): Int32Array {
  let pairs = state.brackets.get(s);
  if (pairs) return pairs;
  pairs = new Int32Array(s.length).fill(-1);
  const open: number[] = [];
  for (let j = 0; j < s.length; j++) {
    const c = s[j];
    if (c === "\\") j++;
    else if (c === "[") open.push(j);
    else if (c === "]") {
      const at = open.pop();
      if (at !== undefined) pairs[at] = j;
    } else if (c === "\n" && s[j + 1] === "\n") open.length = 0;
  }
  state.brackets.set(s, pairs);
  return pairs;
}

function isCloser(s: string, j: number, delim: string): boolean {
  const before = s[j - 1];
  const after = s[j + delim.length];
  const single = delim.length === 1;
  return before !== undefined && !/\s/.test(before) &&
    !(single && after === delim) && !(single && before === delim) &&
    !(delim[0] === "_" && after !== undefined && /[\p{L}\p{N}]/u.test(after));
}

function findCloser(s: string, from: number, delim: string, state: InlineState): number {
  // Whether position j closes `delim` depends on s alone, not on where the search began: so a
  // stretch once searched without finding a closer is skipped by every later search in the same
  // text. Without that, a run of openers ("*a *a *a …") searched the same stretch again each time.
  const key = `${delim}\u0000${s.length}`;
  let memo = state.closers.get(key);
  if (!memo || memo.text !== s) {
    memo = { text: s, lo: -1, hi: -1, none: Infinity };
    state.closers.set(key, memo);
  }
  if (from >= memo.none) return -1;
  let j = from >= memo.lo && from < memo.hi ? memo.hi : from;
  let tries = 0;
  while (tries++ < 200) {
    j = s.indexOf(delim, j);
    if (j < 0) {
      memo.none = Math.min(memo.none, from);
      return -1;
    }
    if (j - from > MAX_SCAN) break;
    if (isCloser(s, j, delim)) {
      if (from <= memo.hi || memo.lo < 0) {
        memo.lo = memo.lo < 0 ? from : Math.min(memo.lo, from);
        memo.hi = j;
      }
      return j;
    }
    j += delim.length;
  }
  // No closer in [from, j): remember it for the searches that start after `from`.
  if (memo.lo < 0 || from > memo.hi) memo.lo = from;
  memo.hi = Math.max(memo.hi, j);
  return -1;
}

function parseLinkAt(
  s: string,
  at: number,
  state: InlineState,
): { label: string; url: string; end: number } | null {
  // s[at] === "["
  const limit = Math.min(s.length, at + MAX_SCAN);
  const close = bracketPairs(s, state)[at]!;
  const j = close < 0 ? limit : close;
  if (j >= limit || s[j + 1] !== "(") return null;
  const label = s.slice(at + 1, j);
  let k = j + 2;
  let parens = 0;
  const urlStart = k;
  for (; k < limit; k++) {
    const c = s[k];
    if (c === "\\") k++;
    else if (c === "(") parens++;
    else if (c === ")") {
      if (parens === 0) break;
      parens--;
    } else if (c === "\n") return null;
  }
  if (k >= limit) return null;
  let url = s.slice(urlStart, k).trim();
  const titled = /^(\S+)\s+(".*"|'.*'|\(.*\))$/.exec(url);
  if (titled) url = titled[1]!;
  if (url.startsWith("<") && url.endsWith(">")) url = url.slice(1, -1);
  return { label, url, end: k + 1 };
}

function plain(nodes: Inline[]): string {
  return nodes.map((n) =>
    n.t === "text" || n.t === "code"
      ? n.v
      : n.t === "br"
      ? " "
      : n.t === "image"
      ? n.alt
      : plain(n.c)
  ).join("");
}

const PUNCT = /[!-/:-@[-`{-~]/;
const BARE_URL = /^https?:\/\/[^\s<>"'`]+/;

function inline(s: string, depth: number, state: InlineState): Inline[] {
  const out: Inline[] = [];
  let text = "";
  const flush = () => {
    if (text) out.push({ t: "text", v: text });
    text = "";
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "\\" && s[i + 1] === "\n") {
      flush();
      out.push({ t: "br" });
      i += 2;
      continue;
    }
    if (c === "\\" && i + 1 < s.length && PUNCT.test(s[i + 1]!)) {
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (c === "\n") {
      flush();
      out.push({ t: "br" });
      i++;
      continue;
    }
    if (c === "`") {
      let n = 1;
      while (s[i + n] === "`") n++;
      const fence = "`".repeat(n);
      let j = s.indexOf(fence, i + n);
      while (j >= 0 && s[j + n] === "`") {
        let k = j;
        while (s[k] === "`") k++;
        j = s.indexOf(fence, k);
      }
      if (j < 0 || j - i > MAX_SCAN * 4) {
        text += fence;
        i += n;
        continue;
      }
      let code = s.slice(i + n, j).replace(/\n/g, " ");
      if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ")) code = code.slice(1, -1);
      flush();
      out.push({ t: "code", v: code });
      i = j + n;
      continue;
    }
    if ((c === "!" && s[i + 1] === "[") || c === "[") {
      const link = parseLinkAt(s, c === "!" ? i + 1 : i, state);
      if (link && depth < MAX_DEPTH) {
        flush();
        const href = safeHref(link.url);
        if (c === "!") {
          out.push({
            t: "image",
            url: link.url,
            href,
            alt: plain(inline(link.label, depth + 1, state)),
          });
        } else {
          out.push({ t: "link", url: link.url, href, c: inline(link.label, depth + 1, state) });
        }
        i = link.end;
        continue;
      }
    }
    if (c === "<") {
      const m = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(s.slice(i, i + 2048));
      if (m) {
        flush();
        out.push({ t: "link", url: m[1]!, href: safeHref(m[1]!), c: [{ t: "text", v: m[1]! }] });
        i += m[0].length;
        continue;
      }
    }
    if ((c === "h" || c === "H") && (i === 0 || /[\s(*_~]/.test(s[i - 1]!))) {
      const m = BARE_URL.exec(s.slice(i, i + 4096));
      if (m) {
        let url = m[0];
        while (/[.,;:!?)'"\]]$/.test(url)) url = url.slice(0, -1);
        if (url.length > 8) {
          flush();
          out.push({ t: "link", url, href: safeHref(url), c: [{ t: "text", v: url }] });
          i += url.length;
          continue;
        }
      }
    }
    if ((c === "*" || c === "_" || c === "~") && depth < MAX_DEPTH) {
      const double = s[i + 1] === c;
      const delim = double ? c + c : c;
      const after = s[i + delim.length];
      const before = i > 0 ? s[i - 1]! : " ";
      const intraword = c === "_" && /[\p{L}\p{N}]/u.test(before);
      if ((c !== "~" || double) && after !== undefined && !/\s/.test(after) && !intraword) {
        const j = findCloser(s, i + delim.length + 1, delim, state);
        const k = j < 0 && !double ? -1 : j;
        if (k > 0) {
          flush();
          const inner = inline(s.slice(i + delim.length, k), depth + 1, state);
          out.push({ t: c === "~" ? "del" : double ? "strong" : "em", c: inner });
          i = k + delim.length;
          continue;
        }
      }
      text += delim;
      i += delim.length;
      continue;
    }
    text += c;
    i++;
  }
  flush();
  return out;
}

/** Parses inline Markdown. */
export function parseInline(text: string, depth = 0): Inline[] {
  return inline(text, depth, { closers: new Map(), brackets: new Map() });
}

/**
 * Parses Markdown text into blocks.
 *
 * @example
 * ```ts
 * import { parseMarkdown } from "./markdown.ts";
 * parseMarkdown("**hi** [x](javascript:alert(1))");
 * // [{ t: "p", c: [{ t: "strong", … }, { t: "text", v: " " }, { t: "link", href: null, … }] }]
 * ```
 */
export function parseMarkdown(text: string): Block[] {
  return parseBlocks(text.replace(/\r\n?/g, "\n").split("\n"), 0);
}
