/**
 * The display parser of claude's stream-json lines, shared by every surface that shows a
 * transcript (the admin, the widget, the CLI): one stored line (`Message.raw`, or an SSE
 * `message` event's `raw`) in, one {@linkcode TranscriptEntry} out. Each caller renders entries its
 * own way; what a line *means* is decided here once.
 *
 * Parsing is defensive: unknown shapes become `other`, unparsable lines `invalid`; nothing here
 * throws on agent data. Pure: no DOM, no `Deno.*`.
 *
 * @example
 * ```ts
 * import { parseTranscriptLine } from "@hero/sdk/transcript";
 * const entry = parseTranscriptLine('{"type":"result","is_error":false,"result":"done"}');
 * if (entry.kind === "result") console.log(entry.text); // "done"
 * ```
 * @module
 */

/** A content block of an assistant or user line. */
export type TranscriptBlock =
  | { kind: "text"; text: string }
  | { kind: "thinking"; text: string }
  | { kind: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  /** `text`: the result's text blocks (no `<system-reminder>` ones); images as `[image]`. */
  | { kind: "tool_result"; toolUseId: string; text: string; isError: boolean }
  | { kind: "other"; type: string };

/** What one stream-json line shows. */
export type TranscriptEntry =
  /** `apiError`: the error text when claude reports a failed API call as a synthetic message. */
  | { kind: "assistant"; blocks: TranscriptBlock[]; apiError: string | null }
  /** A user line that claude wrote itself: tool results, a /compact summary. */
  | { kind: "user"; blocks: TranscriptBlock[] }
  /** A prompt of the operator (first or follow-up), as claude echoed it (`isReplay`). */
  | { kind: "prompt"; text: string }
  | {
    kind: "init";
    model: string | null;
    cwd: string | null;
    sessionId: string | null;
    permissionMode: string | null;
    /** How many tools the session has. */
    tools: number;
  }
  /** The end of a turn. */
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
  /** Any other `system` line; `attempt` is set on `api_retry`. */
  | { kind: "system"; subtype: string; detail: string; attempt?: number }
  | { kind: "rate_limit"; status: string; resetsAt: number | null }
  /** A line type this parser does not know (stream events, control messages, …). */
  | { kind: "other"; type: string; subtype?: string }
  /** Not a JSON object. */
  | { kind: "invalid"; text: string }
  /** The server left the line out for size. */
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

/**
 * The text of a tool_result's `content` (a string or an array of blocks). Reminders the CLI
 * appends for the model (`<system-reminder>` text blocks) and empty blocks are left out; images
 * and other blocks show as `[image]`, `[type]`.
 */
export function toolResultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) {
    return content === undefined || content === null ? "" : JSON.stringify(content);
  }
  const parts: string[] = [];
  for (const b of content) {
    if (!isObject(b)) continue;
    if (b.type === "text") {
      const text = str(b.text) ?? "";
      if (text !== "" && !text.trimStart().startsWith("<system-reminder>")) parts.push(text);
    } else if (b.type === "image") parts.push("[image]");
    else parts.push(`[${str(b.type) ?? "block"}]`);
  }
  return parts.join("\n");
}

function blocksOf(content: unknown): TranscriptBlock[] {
  if (typeof content === "string") return [{ kind: "text", text: content }];
  if (!Array.isArray(content)) return [];
  const out: TranscriptBlock[] = [];
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

function systemEntry(line: Json): TranscriptEntry {
  const subtype = str(line.subtype) ?? "system";
  switch (line.subtype) {
    case "api_retry": {
      const attempt = num(line.attempt);
      const detail = `API retry ${attempt ?? "?"}/${num(line.max_retries) ?? "?"}` +
        (line.error_status ? ` after HTTP ${String(line.error_status)}` : "") +
        (num(line.retry_delay_ms) !== null ? `, waiting ${line.retry_delay_ms} ms` : "");
      return { kind: "system", subtype, detail, ...(attempt !== null ? { attempt } : {}) };
    }
    case "permission_denied":
      return {
        kind: "system",
        subtype,
        detail: str(line.message) ?? `Permission denied for ${str(line.tool_name) ?? "a tool"}`,
      };
    case "compact_boundary":
      return { kind: "system", subtype, detail: "Conversation compacted" };
    case "status":
      return { kind: "system", subtype, detail: `Status: ${str(line.status) ?? "idle"}` };
    default:
      return { kind: "system", subtype, detail: str(line.message) ?? "" };
  }
}

function assistantEntry(line: Json, message: Json): TranscriptEntry {
  const blocks = blocksOf(message.content);
  const failed = line.is_api_error_message === true ||
    (line.error !== undefined && line.error !== null);
  if (!failed) return { kind: "assistant", blocks, apiError: null };
  const text = blocks.flatMap((b) => b.kind === "text" ? [b.text] : []).join("\n");
  return { kind: "assistant", blocks, apiError: text || str(line.error) || "API error" };
}

/**
 * Parses one stored stream-json line. `raw === null` means the server left it out for size
 * (`byteLength` is then its size).
 *
 * @example
 * ```ts
 * import { parseTranscriptLine } from "@hero/sdk/transcript";
 * parseTranscriptLine('{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}]}}');
 * // { kind: "assistant", blocks: [{ kind: "text", text: "hi" }], apiError: null }
 * ```
 */
export function parseTranscriptLine(raw: string | null, byteLength = 0): TranscriptEntry {
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
    case "assistant":
      return assistantEntry(line, message);
    case "user":
      // `--replay-user-messages` echoes what we sent on stdin; other user lines (tool results, a
      // /compact summary) are claude's own.
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
      return systemEntry(line);
    case "rate_limit_event": {
      const info = isObject(line.rate_limit_info) ? line.rate_limit_info : {};
      return {
        kind: "rate_limit",
        status: str(info.status) ?? "unknown",
        resetsAt: num(info.resetsAt),
      };
    }
    default: {
      const subtype = str(line.subtype);
      return {
        kind: "other",
        type: str(line.type) ?? "unknown",
        ...(subtype !== null ? { subtype } : {}),
      };
    }
  }
}
