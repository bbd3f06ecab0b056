/**
 * The module specifiers a TypeScript/JavaScript source imports, with their line numbers:
 * `import … from "x"`, `import "x"`, `export … from "x"`, and `import("x")` (also in type
 * positions, `typeof import("x")`). A small tokenizer skips comments, strings, template literals
 * and regular expressions first, so text that merely looks like an import (in a string, a comment
 * or a test fixture) is never reported. A dynamic import of a computed value is not reported.
 *
 * @example
 * ```ts
 * import { findImports } from "./import_specifiers.ts";
 *
 * findImports('import type { A } from "@hero/sdk";\nconst m = await import("./x.ts");');
 * // [{ specifier: "@hero/sdk", line: 1, dynamic: false, typeOnly: true },
 * //  { specifier: "./x.ts", line: 2, dynamic: true, typeOnly: false }]
 * ```
 * @module
 */

/** One import site. */
export interface ImportSite {
  specifier: string;
  /** 1-based line of the specifier. */
  line: number;
  /** `import("…")` rather than a declaration. */
  dynamic: boolean;
  /** `import type` / `export type` (the whole declaration; inline `type` names do not count). */
  typeOnly: boolean;
}

type Token =
  | { t: "id"; v: string; line: number }
  /** A string, or a template literal without substitutions (raw text between the quotes). */
  | { t: "str"; v: string; line: number }
  /** A number, a regular expression or a template with substitutions: an operand. */
  | { t: "val"; line: number }
  | { t: "p"; v: string; line: number };

// After these keywords a `/` starts a regular expression, not a division.
const EXPRESSION_KEYWORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

const ID_START = /[A-Za-z_$\u0080-\uffff]/;
const ID_PART = /[\w$\u0080-\uffff]/;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const n = src.length;
  let i = 0;
  let line = 1;
  let depth = 0;
  // Brace depths at which a `}` ends a `${…}` and resumes its template.
  const resume: number[] = [];

  function regexAllowed(): boolean {
    const prev = out[out.length - 1];
    if (!prev) return true;
    if (prev.t === "val" || prev.t === "str") return false;
    if (prev.t === "id") return EXPRESSION_KEYWORDS.has(prev.v);
    return prev.v !== ")" && prev.v !== "]" && prev.v !== "}";
  }

  /** Scans template text from `i`; true when it stopped at `${` (a substitution). */
  function templateText(): { raw: string; substitution: boolean } {
    let raw = "";
    while (i < n) {
      const c = src[i]!;
      if (c === "\\") {
        raw += src.slice(i, i + 2);
        if (src[i + 1] === "\n") line++;
        i += 2;
        continue;
      }
      if (c === "`") {
        i++;
        return { raw, substitution: false };
      }
      if (c === "$" && src[i + 1] === "{") {
        i += 2;
        return { raw, substitution: true };
      }
      if (c === "\n") line++;
      raw += c;
      i++;
    }
    return { raw, substitution: false };
  }

  while (i < n) {
    const c = src[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (
      c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v" || c === "\ufeff"
    ) {
      i++;
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === "\n") line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      // A quote never spans a raw newline: an unterminated one (JSX text like `don't`) ends there.
      const start = line;
      let v = "";
      i++;
      while (i < n && src[i] !== c && src[i] !== "\n") {
        if (src[i] === "\\") {
          if (src[i + 1] === "\n") line++;
          v += src.slice(i, i + 2);
          i += 2;
        } else {
          v += src[i];
          i++;
        }
      }
      if (src[i] === c) i++;
      out.push({ t: "str", v, line: start });
    } else if (c === "`") {
      const start = line;
      i++;
      const part = templateText();
      if (part.substitution) {
        out.push({ t: "val", line: start });
        resume.push(depth);
      } else {
        out.push({ t: "str", v: part.raw, line: start });
      }
    } else if (c === "}" && resume.length > 0 && resume[resume.length - 1] === depth) {
      i++;
      const part = templateText();
      if (!part.substitution) resume.pop();
    } else if (c === "/" && regexAllowed()) {
      const start = line;
      i++;
      let inClass = false;
      while (i < n && src[i] !== "\n") {
        const d = src[i]!;
        if (d === "\\") i += 2;
        else if (d === "[") (inClass = true), i++;
        else if (d === "]") (inClass = false), i++;
        else if (d === "/" && !inClass) break;
        else i++;
      }
      i++;
      while (i < n && ID_PART.test(src[i]!)) i++;
      out.push({ t: "val", line: start });
    } else if (ID_START.test(c)) {
      const start = i;
      while (i < n && ID_PART.test(src[i]!)) i++;
      out.push({ t: "id", v: src.slice(start, i), line });
    } else if (c >= "0" && c <= "9") {
      while (i < n && /[\w.]/.test(src[i]!)) i++;
      out.push({ t: "val", line });
    } else {
      if (c === "{") depth++;
      else if (c === "}") depth--;
      out.push({ t: "p", v: c, line });
      i++;
    }
  }
  return out;
}

function isId(tok: Token | undefined, v?: string): tok is { t: "id"; v: string; line: number } {
  return tok !== undefined && tok.t === "id" && (v === undefined || tok.v === v);
}

function isP(tok: Token | undefined, v: string): boolean {
  return tok !== undefined && tok.t === "p" && tok.v === v;
}

/** Index after the `}` matching the `{` at `open`. */
function afterBraces(tokens: Token[], open: number): number {
  let level = 0;
  for (let j = open; j < tokens.length; j++) {
    if (isP(tokens[j], "{")) level++;
    else if (isP(tokens[j], "}") && --level === 0) return j + 1;
  }
  return tokens.length;
}

/** Every import site of `source`, in order. */
export function findImports(source: string): ImportSite[] {
  const tokens = tokenize(source);
  const sites: ImportSite[] = [];
  const fromClause = (j: number, typeOnly: boolean) => {
    const str = tokens[j + 1];
    if (isId(tokens[j], "from") && str?.t === "str") {
      sites.push({ specifier: str.v, line: str.line, dynamic: false, typeOnly });
    }
  };
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k]!;
    if (tok.t !== "id" || (tok.v !== "import" && tok.v !== "export")) continue;
    if (isP(tokens[k - 1], ".")) continue; // a property named import/export
    const next = tokens[k + 1];
    if (tok.v === "import") {
      if (isP(next, ".")) continue; // import.meta
      if (isP(next, "(")) {
        const arg = tokens[k + 2];
        if (arg?.t === "str" && (isP(tokens[k + 3], ")") || isP(tokens[k + 3], ","))) {
          sites.push({ specifier: arg.v, line: arg.line, dynamic: true, typeOnly: false });
        }
        continue;
      }
      if (next?.t === "str") {
        sites.push({ specifier: next.v, line: next.line, dynamic: false, typeOnly: false });
        continue;
      }
    }
    // import|export [type] [default,] ({…} | * [as ns]) from "x"; import [type] x from "x"
    let j = k + 1;
    let typeOnly = false;
    if (isId(tokens[j], "type") && !isId(tokens[j + 1], "from") && !isP(tokens[j + 1], ",")) {
      typeOnly = true;
      j++;
    }
    if (tok.v === "import" && isId(tokens[j]) && !isId(tokens[j], "from")) {
      j++;
      if (isP(tokens[j], ",")) j++;
      else {
        fromClause(j, typeOnly);
        continue;
      }
    }
    if (isP(tokens[j], "{")) j = afterBraces(tokens, j);
    else if (isP(tokens[j], "*")) {
      j++;
      if (isId(tokens[j], "as")) j += 2;
    } else continue;
    fromClause(j, typeOnly);
  }
  return sites;
}
