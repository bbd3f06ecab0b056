/**
 * What of a stored line the search index covers: prompts, assistant text, thinking (optional),
 * tool names with their inputs and tool outputs (each bounded). Pure; the indexer and the snippet
 * builder use the same function, so a snippet is cut from exactly the text that was indexed.
 * @module
 */

/** Where a hit's text came from. `agent` is the agent's name and cwd. */
export type SearchField = "prompt" | "assistant" | "thinking" | "tool" | "tool_result" | "agent";

/** Options for {@linkcode searchTextOf}. */
export interface SearchTextOptions {
  /** Index thinking blocks too. Default false (they are long and rarely what people look for). */
  thinking?: boolean;
}

/** At most this many UTF-16 code units of one tool input or output are indexed. */
export const TOOL_TEXT_LIMIT = 4096;
/** At most this many of one line in total: a pasted megabyte must not bloat the index. */
export const LINE_TEXT_LIMIT = 32 * 1024;

/** The searchable text of one line and the field it counts as; null when nothing is searchable. */
export interface SearchText {
  field: SearchField;
  text: string;
}

function bounded(text: string, limit: number): string {
  return text.length <= limit ? text : text.slice(0, limit);
}

function textOfToolResult(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: string[] = [];
  for (const block of content) {
    if (block && typeof block === "object" && typeof block.text === "string") {
      parts.push(block.text);
    }
  }
  return parts.join("\n");
}

/**
 * The searchable text of a line of type `type` whose JSON is `raw`; null for lines with none
 * (system, result, stream events, unparsable lines).
 */
export function searchTextOf(
  raw: string,
  type: string | null,
  options: SearchTextOptions = {},
): SearchText | null {
  if (type !== "user" && type !== "assistant") return null;
  let line: { message?: { content?: unknown } };
  try {
    line = JSON.parse(raw);
  } catch {
    return null;
  }
  const content = line?.message?.content;
  const blocks: unknown[] = typeof content === "string"
    ? [{ type: "text", text: content }]
    : Array.isArray(content)
    ? content
    : [];
  const parts: string[] = [];
  let field: SearchField | null = null;
  for (const block of blocks) {
    if (!block || typeof block !== "object") continue;
    const b = block as Record<string, unknown>;
    let part: string | null = null;
    let kind: SearchField | null = null;
    if (b.type === "text" && typeof b.text === "string") {
      part = b.text;
      kind = type === "user" ? "prompt" : "assistant";
    } else if (b.type === "thinking" && options.thinking && typeof b.thinking === "string") {
      part = b.thinking;
      kind = "thinking";
    } else if (b.type === "tool_use" && typeof b.name === "string") {
      const input = b.input === undefined ? "" : JSON.stringify(b.input);
      part = `${b.name} ${bounded(input, TOOL_TEXT_LIMIT)}`;
      kind = "tool";
    } else if (b.type === "tool_result") {
      part = bounded(textOfToolResult(b.content), TOOL_TEXT_LIMIT);
      kind = "tool_result";
    }
    if (part === null || kind === null || part.length === 0) continue;
    field ??= kind;
    parts.push(part);
  }
  if (field === null) return null;
  return { field, text: bounded(parts.join("\n"), LINE_TEXT_LIMIT) };
}

/** The indexed text of an agent: its name and cwd (as the migration's triggers index it). */
export function agentSearchText(name: string | null, cwd: string): string {
  return `${name ?? ""} ${cwd}`;
}
