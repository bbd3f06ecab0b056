/**
 * What the widget shows of an agent's stored stream-json lines: assistant text, one short line per
 * tool call and result, errors. Thinking, init, partial and unknown lines are not shown, nor is
 * claude's echo of a prompt (`isReplay`): the widget shows each prompt itself the moment it is sent
 * (and again from its saved turns after a reload), so the echo would show it twice.
 * @module
 */

/** One transcript entry. `seq` orders entries; a user turn sits at `afterSeq + 0.5`. */
export type Item =
  | { kind: "user"; seq: number; text: string; voice: boolean }
  | { kind: "text"; seq: number; text: string }
  | { kind: "tool"; seq: number; label: string; detail: string }
  | { kind: "tool_result"; seq: number; text: string; isError: boolean }
  | { kind: "error"; seq: number; text: string }
  | { kind: "notice"; seq: number; text: string };

const MAX_DETAIL = 160;

function clip(text: string, max = MAX_DETAIL): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `mcp__hero_books__get_page` → `hero_books · get_page`; other names as they are. */
export function toolLabel(name: string): string {
  const m = /^mcp__(.+?)__(.+)$/.exec(name);
  return m ? `${m[1]} · ${m[2]}` : name;
}

function toolDetail(input: unknown): string {
  if (!isRecord(input)) return "";
  for (const key of ["command", "file_path", "path", "pattern", "url", "query", "description"]) {
    if (typeof input[key] === "string") return clip(input[key] as string);
  }
  const json = JSON.stringify(input);
  return json === "{}" ? "" : clip(json);
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b) => (isRecord(b) && b.type === "text" && typeof b.text === "string" ? b.text : ""))
    .filter((t) => t !== "" && !t.trimStart().startsWith("<system-reminder>"))
    .join("\n");
}

/**
 * The entries of one stored line (`raw` null: left out of the event for size).
 *
 * @example
 * ```ts
 * import { itemsOf } from "./lines.ts";
 * itemsOf(3, '{"type":"assistant","message":{"content":[{"type":"text","text":"Hi"}]}}');
 * // [{ kind: "text", seq: 3, text: "Hi" }]
 * ```
 */
export function itemsOf(seq: number, raw: string | null): Item[] {
  if (raw === null) return [{ kind: "notice", seq, text: "(a long line, not shown here)" }];
  let line: unknown;
  try {
    line = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!isRecord(line)) return [];
  const message = isRecord(line.message) ? line.message : null;
  const content = Array.isArray(message?.content) ? message.content : [];
  switch (line.type) {
    case "assistant": {
      if (line.is_api_error_message === true || line.error !== undefined && line.error !== null) {
        const text = content.map((b) => (isRecord(b) && typeof b.text === "string" ? b.text : ""))
          .join(" ");
        return [{ kind: "error", seq, text: clip(text || "API error", 400) }];
      }
      const out: Item[] = [];
      for (const b of content) {
        if (!isRecord(b)) continue;
        if (b.type === "text" && typeof b.text === "string" && b.text.trim() !== "") {
          out.push({ kind: "text", seq, text: b.text });
        } else if (b.type === "tool_use" && typeof b.name === "string") {
          out.push({ kind: "tool", seq, label: toolLabel(b.name), detail: toolDetail(b.input) });
        }
      }
      return out;
    }
    case "user": {
      if (line.isReplay === true) return [];
      const out: Item[] = [];
      for (const b of content) {
        if (isRecord(b) && b.type === "tool_result") {
          out.push({
            kind: "tool_result",
            seq,
            text: clip(resultText(b.content)) || "(no output)",
            isError: b.is_error === true,
          });
        }
      }
      return out;
    }
    case "result": {
      if (line.is_error !== true) return [];
      const errors = Array.isArray(line.errors) ? line.errors.join("; ") : "";
      const text = typeof line.result === "string" && line.result !== ""
        ? line.result
        : errors || `The turn ended with ${String(line.subtype ?? "an error")}`;
      return [{ kind: "error", seq, text: clip(text, 400) }];
    }
    case "system":
      if (line.subtype === "api_retry") {
        return [{
          kind: "notice",
          seq,
          text: `Retrying the API (attempt ${String(line.attempt)})`,
        }];
      }
      return [];
    default:
      return [];
  }
}

/** The assistant text of a line (what a spoken reply reads out), or "". */
export function spokenTextOf(raw: string | null): string {
  if (raw === null) return "";
  return itemsOf(0, raw).filter((i) => i.kind === "text").map((i) => (i as { text: string }).text)
    .join("\n");
}
