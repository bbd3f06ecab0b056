/**
 * Classifies one stdout line of claude's stream-json output.
 *
 * @module
 */

/** What a stored line is: its `type`/`subtype` and parsed object, or a parse error. */
export interface ClassifiedLine {
  /** `type` of the JSON object when it is a string, else null. */
  type: string | null;
  /** `subtype` of the JSON object when it is a string, else null. */
  subtype: string | null;
  /** True when the line is not valid UTF-8, not JSON, or JSON but not a plain object. */
  parseError: boolean;
  /** The parsed object; null on a parse error. */
  value: Record<string, unknown> | null;
}

// `fatal`: invalid UTF-8 is a parse error rather than silently becoming U+FFFD. A non-streaming
// decode() starts from a fresh state each call, so one shared decoder is safe.
const decoder = new TextDecoder("utf-8", { fatal: true });

const PARSE_ERROR: Readonly<ClassifiedLine> = Object.freeze({
  type: null,
  subtype: null,
  parseError: true,
  value: null,
});

/**
 * Parses one line (without terminator) and reads its `type` and `subtype`. Never throws.
 *
 * Key order in claude's lines is arbitrary (`type` comes near the end of `result`), so the line is
 * always fully parsed, never prefix-matched. Unknown types are returned as they are. JSON escapes
 * of lone surrogates (`"\ud800"`) are valid JSON and parse normally.
 *
 * @example
 * ```ts
 * const line = classifyLine(new TextEncoder().encode('{"subtype":"init","type":"system"}'));
 * // { type: "system", subtype: "init", parseError: false, value: { subtype: "init", type: "system" } }
 * ```
 */
export function classifyLine(bytes: Uint8Array): ClassifiedLine {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return { ...PARSE_ERROR };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ...PARSE_ERROR };
  }
  const record = value as Record<string, unknown>;
  const type = record.type;
  const subtype = record.subtype;
  return {
    type: typeof type === "string" ? type : null,
    subtype: typeof subtype === "string" ? subtype : null,
    parseError: false,
    value: record,
  };
}
