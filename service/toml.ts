/**
 * A small TOML reader and writer for the subset service manifests use: comments, `key = value`
 * (basic strings, integers, floats, booleans, arrays of those), `[table]` and `[[array of tables]]`.
 * @module
 */

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function fail(line: number, reason: string): never {
  throw new SyntaxError(`Cannot parse TOML line ${line}: ${reason}`);
}

function parseString(src: string, at: number, line: number): [string, number] {
  let out = "";
  let i = at + 1;
  for (; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"') return [out, i + 1];
    if (c === "\\") {
      const e = src[++i];
      const simple: Record<string, string> = {
        '"': '"',
        "\\": "\\",
        n: "\n",
        t: "\t",
        r: "\r",
        b: "\b",
        f: "\f",
      };
      if (e !== undefined && Object.hasOwn(simple, e)) out += simple[e];
      else if (e === "u" || e === "U") {
        const len = e === "u" ? 4 : 8;
        const hex = src.slice(i + 1, i + 1 + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail(line, "bad unicode escape");
        out += String.fromCodePoint(parseInt(hex, 16));
        i += len;
      } else fail(line, `bad escape \\${e ?? ""}`);
    } else out += c;
  }
  return fail(line, "unterminated string");
}

function skipSpace(src: string, i: number): number {
  while (i < src.length && (src[i] === " " || src[i] === "\t")) i++;
  return i;
}

function parseValue(src: string, at: number, line: number): [TomlValue, number] {
  const i = skipSpace(src, at);
  const c = src[i];
  if (c === '"') return parseString(src, i, line);
  if (c === "[") {
    const items: TomlValue[] = [];
    let j = skipSpace(src, i + 1);
    while (src[j] !== "]") {
      const [value, next] = parseValue(src, j, line);
      items.push(value);
      j = skipSpace(src, next);
      if (src[j] === ",") j = skipSpace(src, j + 1);
      else if (src[j] !== "]") fail(line, "expected , or ] in array");
    }
    return [items, j + 1];
  }
  const m = /^(true|false|[+-]?\d[\d_]*(\.\d+)?([eE][+-]?\d+)?)/.exec(src.slice(i));
  if (!m) fail(line, `unsupported value "${src.slice(i, i + 20)}"`);
  const token = m[1]!;
  const value = token === "true"
    ? true
    : token === "false"
    ? false
    : Number(token.replaceAll("_", ""));
  return [value, i + token.length];
}

function stripComment(src: string, at: number, line: number): void {
  const rest = src.slice(skipSpace(src, at));
  if (rest !== "" && !rest.startsWith("#")) fail(line, `unexpected "${rest.slice(0, 20)}"`);
}

function define(table: TomlTable, key: string, value: TomlValue, line: number): void {
  if (!BARE_KEY.test(key)) fail(line, `unsupported key "${key}"`);
  if (Object.hasOwn(table, key)) fail(line, `duplicate key "${key}"`);
  Object.defineProperty(table, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Parses the supported TOML subset into plain objects (keys are defined, never assigned). */
export function parseToml(text: string): TomlTable {
  const root: TomlTable = {};
  let current = root;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const src = lines[n]!;
    const i = skipSpace(src, 0);
    if (i === src.length || src[i] === "#") continue;
    const header = /^\s*(\[\[?)\s*([A-Za-z0-9_-]+)\s*(\]\]?)\s*(#.*)?$/.exec(src);
    if (header) {
      const [, open, name, close] = header;
      if (open!.length !== close!.length) fail(lineNo, "mismatched brackets");
      const table: TomlTable = {};
      if (open === "[[") {
        const existing = Object.hasOwn(root, name!) ? root[name!] : undefined;
        if (existing === undefined) define(root, name!, [table], lineNo);
        else if (Array.isArray(existing)) existing.push(table);
        else fail(lineNo, `"${name}" is not an array of tables`);
      } else define(root, name!, table, lineNo);
      current = table;
      continue;
    }
    const eq = src.indexOf("=", i);
    if (eq < 0) fail(lineNo, "expected key = value");
    const key = src.slice(i, eq).trim();
    const [value, end] = parseValue(src, eq + 1, lineNo);
    stripComment(src, end, lineNo);
    define(current, key, value, lineNo);
  }
  return root;
}

function formatValue(value: TomlValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  throw new TypeError("Cannot format TOML: nested tables are only supported one level deep");
}

function isTable(value: unknown): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Writes a table: scalars first, then `[tables]`, then `[[arrays of tables]]`. */
export function stringifyToml(table: TomlTable): string {
  const head: string[] = [];
  const tail: string[] = [];
  for (const [key, value] of Object.entries(table)) {
    if (isTable(value)) {
      tail.push("", `[${key}]`);
      for (const [k, v] of Object.entries(value)) tail.push(`${k} = ${formatValue(v)}`);
    } else if (Array.isArray(value) && value.length > 0 && value.every(isTable)) {
      for (const item of value as TomlTable[]) {
        tail.push("", `[[${key}]]`);
        for (const [k, v] of Object.entries(item)) tail.push(`${k} = ${formatValue(v)}`);
      }
    } else head.push(`${key} = ${formatValue(value)}`);
  }
  return [...head, ...tail].join("\n") + "\n";
}
