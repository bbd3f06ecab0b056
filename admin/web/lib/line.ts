/**
 * Turns one stored stream-json line of claude (`agent.messages` / SSE `message`) into a display
 * model. Parsing is defensive: unknown shapes become `other`, unparsable lines `invalid`; nothing
 * here throws on agent data. Pure; no DOM.
 * @module
 */

/** A content block of an assistant or user line. */
export type ContentBlock =
  | { kind: "text"; text: string }
  | { kind: "thinking"; text: string }
  | { kind: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { kind: "tool_result"; toolUseId: string; text: string; isError: boolean }
  | { kind: "other"; type: string };

/** What one line shows. */
export type Entry =
  | { kind: "assistant"; blocks: ContentBlock[]; apiError: string | null }
  | { kind: "user"; blocks: ContentBlock[] }
  /** A prompt of the operator (first or follow-up), as claude echoed it (`isReplay`). */
  | { kind: "prompt"; text: string }
  | {
    kind: "init";
    model: string | null;
    cwd: string | null;
    sessionId: string | null;
    permissionMode: string | null;
    tools: number;
  }
  | {
    kind: "result";
    isError: boolean;
    subtype: string | null;
    text: string | null;
    costUsd: number | null;
    durationMs: number | null;
    numTurns: number | null;
    errors: string[];
  }
  | { kind: "system"; subtype: string; detail: string }
  | { kind: "rate_limit"; status: string; resetsAt: number | null }
  | { kind: "other"; type: string }
  | { kind: "invalid"; text: string }
  | { kind: "missing"; bytes: number };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Text of a tool_result `content` (a string or an array of blocks). */
export function toolResultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) {
    return content === undefined || content === null ? "" : JSON.stringify(content);
  }
  return content.map((b) => {
    if (!isObject(b)) return "";
    if (b.type === "text") return str(b.text) ?? "";
    if (b.type === "image") return "[image]";
    return `[${str(b.type) ?? "block"}]`;
  }).join("\n");
}

function blocksOf(content: unknown): ContentBlock[] {
  if (typeof content === "string") return [{ kind: "text", text: content }];
  if (!Array.isArray(content)) return [];
  const out: ContentBlock[] = [];
  for (const b of content) {
    if (!isObject(b)) continue;
    switch (b.type) {
      case "text":
        out.push({ kind: "text", text: str(b.text) ?? "" });
        break;
      case "thinking":
        out.push({ kind: "thinking", text: str(b.thinking) ?? str(b.text) ?? "" });
        break;
      case "redacted_thinking":
        out.push({ kind: "thinking", text: "(redacted)" });
        break;
      case "tool_use":
      case "server_tool_use":
        out.push({
          kind: "tool_use",
          id: str(b.id) ?? "",
          name: str(b.name) ?? "tool",
          input: isObject(b.input) ? b.input : {},
        });
        break;
      case "tool_result":
        out.push({
          kind: "tool_result",
          toolUseId: str(b.tool_use_id) ?? "",
          text: toolResultText(b.content),
          isError: b.is_error === true,
        });
        break;
      default:
        out.push({ kind: "other", type: str(b.type) ?? "unknown" });
    }
  }
  return out;
}

/** The text of an echoed prompt (a string or text blocks), or null when it holds no text. */
function promptText(content: unknown): string | null {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return null;
  const texts = content.flatMap((b) => isObject(b) && b.type === "text" ? [str(b.text) ?? ""] : []);
  return texts.length > 0 ? texts.join("\n") : null;
}

function systemDetail(line: Json): string {
  switch (line.subtype) {
    case "api_retry":
      return `API retry ${num(line.attempt) ?? "?"}/${num(line.max_retries) ?? "?"}` +
        (line.error_status ? ` after HTTP ${String(line.error_status)}` : "") +
        (num(line.retry_delay_ms) !== null ? `, waiting ${line.retry_delay_ms} ms` : "");
    case "permission_denied":
      return str(line.message) ?? `Permission denied for ${str(line.tool_name) ?? "a tool"}`;
    case "compact_boundary":
      return "Conversation compacted";
    case "status":
      return `Status: ${str(line.status) ?? "idle"}`;
    default:
      return str(line.message) ?? "";
  }
}

/**
 * Parses one line. `raw === null` means the server left it out for size (`truncated`).
 *
 * @example
 * ```ts
 * import { parseLine } from "./line.ts";
 * parseLine('{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}]}}');
 * // { kind: "assistant", blocks: [{ kind: "text", text: "hi" }], apiError: null }
 * ```
 */
export function parseLine(raw: string | null, byteLength = 0): Entry {
  if (raw === null) return { kind: "missing", bytes: byteLength };
  let line: unknown;
  try {
    line = JSON.parse(raw);
  } catch {
    return { kind: "invalid", text: raw };
  }
  if (!isObject(line)) return { kind: "invalid", text: raw };
  const message = isObject(line.message) ? line.message : {};
  switch (line.type) {
    case "assistant": {
      const blocks = blocksOf(message.content);
      const apiError = line.is_api_error_message === true || typeof line.error === "string"
        ? blocks.filter((b) => b.kind === "text").map((b) => (b as { text: string }).text).join(
          "\n",
        ) || str(line.error) || "API error"
        : null;
      return { kind: "assistant", blocks, apiError };
    }
    case "user":
      // `--replay-user-messages` echoes what we sent on stdin; other user lines (tool results, a
      // /compact summary) are claude's own and keep their generic look.
      if (line.isReplay === true) {
        const text = promptText(message.content);
        if (text !== null) return { kind: "prompt", text };
      }
      return { kind: "user", blocks: blocksOf(message.content) };
    case "result":
      return {
        kind: "result",
        isError: line.is_error === true,
        subtype: str(line.subtype),
        text: str(line.result),
        costUsd: num(line.total_cost_usd),
        durationMs: num(line.duration_ms),
        numTurns: num(line.num_turns),
        errors: Array.isArray(line.errors) ? line.errors.map((e) => String(e)) : [],
      };
    case "system":
      if (line.subtype === "init") {
        return {
          kind: "init",
          model: str(line.model),
          cwd: str(line.cwd),
          sessionId: str(line.session_id),
          permissionMode: str(line.permissionMode),
          tools: Array.isArray(line.tools) ? line.tools.length : 0,
        };
      }
      return { kind: "system", subtype: str(line.subtype) ?? "system", detail: systemDetail(line) };
    case "rate_limit_event": {
      const info = isObject(line.rate_limit_info) ? line.rate_limit_info : {};
      return {
        kind: "rate_limit",
        status: str(info.status) ?? "unknown",
        resetsAt: num(info.resetsAt),
      };
    }
    default:
      return { kind: "other", type: str(line.type) ?? "unknown" };
  }
}

/** The text of the last text block of an assistant line, or null. */
export function assistantText(raw: string | null): string | null {
  if (raw === null) return null;
  const entry = parseLine(raw);
  if (entry.kind !== "assistant") return null;
  for (let i = entry.blocks.length - 1; i >= 0; i--) {
    const b = entry.blocks[i]!;
    if (b.kind === "text" && b.text.trim() !== "") return b.text;
  }
  return null;
}

/** True when a user line holds only tool results. */
export function onlyToolResults(entry: Entry): boolean {
  return entry.kind === "user" && entry.blocks.length > 0 &&
    entry.blocks.every((b) => b.kind === "tool_result");
}
