/**
 * The TOML subset `service.toml` uses: comments, `key = value` with strings, booleans, numbers and
 * arrays of those, `[table]` and `[[array of tables]]`. Enough to read our own file and to print
 * the `--info` manifest; anything else is a SyntaxError naming the line.
 * @module
 */

/** A TOML value of the subset. */
export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
/** A TOML table. */
export interface TomlTable {
  [key: string]: TomlValue;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function fail(line: number, why: string): never {
  throw new SyntaxError(`Cannot parse TOML line ${line}: ${why}`);
}

function parseValue(src: string, line: number): [TomlValue, string] {
  const s = src.trimStart();
  if (s.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(s);
    if (!m) fail(line, "unterminated string");
    try {
      return [JSON.parse(`"${m[1]}"`) as string, s.slice(m[0].length)];
    } catch {
      return fail(line, "invalid escape in string");
    }
  }
  if (s.startsWith("[")) {
    const items: TomlValue[] = [];
    let rest = s.slice(1).trimStart();
    while (!rest.startsWith("]")) {
      const [value, after] = parseValue(rest, line);
      items.push(value);
      rest = after.trimStart();
      if (rest.startsWith(",")) rest = rest.slice(1).trimStart();
      else if (!rest.startsWith("]")) fail(line, "expected , or ] in array");
    }
    return [items, rest.slice(1)];
  }
  const m = /^(true|false|[+-]?\d[\d_]*(?:\.\d+)?)/.exec(s);
  if (!m) fail(line, `unsupported value "${s.slice(0, 20)}"`);
  const token = m[1]!;
  const value = token === "true"
    ? true
    : token === "false"
    ? false
    : Number(token.replaceAll("_", ""));
  return [value, s.slice(token.length)];
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

/** Parses the subset into plain objects (keys are defined, never assigned). */
export function parseToml(text: string): TomlTable {
  const root: TomlTable = {};
  let current = root;
  text.split(/\r?\n/).forEach((src, n) => {
    const line = n + 1;
    const trimmed = src.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const header = /^(\[\[?)\s*([A-Za-z0-9_-]+)\s*(\]\]?)\s*(#.*)?$/.exec(trimmed);
    if (header) {
      const [, open, name, close] = header;
      if (open!.length !== close!.length) fail(line, "mismatched brackets");
      const table: TomlTable = {};
      if (open === "[[") {
        const existing = Object.hasOwn(root, name!) ? root[name!] : undefined;
        if (existing === undefined) define(root, name!, [table], line);
        else if (Array.isArray(existing)) existing.push(table);
        else fail(line, `"${name}" is not an array of tables`);
      } else define(root, name!, table, line);
      current = table;
      return;
    }
    const eq = trimmed.indexOf("=");
    if (eq < 0) fail(line, "expected key = value");
    const [value, rest] = parseValue(trimmed.slice(eq + 1), line);
    const tail = rest.trim();
    if (tail !== "" && !tail.startsWith("#")) fail(line, `unexpected "${tail.slice(0, 20)}"`);
    define(current, trimmed.slice(0, eq).trim(), value, line);
  });
  return root;
}

function formatValue(value: TomlValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  throw new TypeError("Cannot format TOML: a table is nested too deeply");
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
