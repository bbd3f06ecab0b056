/**
 * What the widget shows of an agent's stored stream-json lines: assistant text, one short line per
 * tool call and result, errors. Thinking, init, partial and unknown lines are not shown, nor is
 * claude's echo of a prompt (`isReplay`): the widget shows each prompt itself the moment it is sent
 * (and again from its saved turns after a reload), so the echo would show it twice. What a line
 * means is the SDK's display parser's call ({@linkcode parseTranscriptLine}).
 * @module
 */
import { parseTranscriptLine, type TranscriptBlock } from "@hero/sdk";

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

/** The one input field worth showing of a tool call (command, path, pattern, …), clipped. */
export function toolDetail(input: unknown): string {
  if (!isRecord(input)) return "";
  for (const key of ["command", "file_path", "path", "pattern", "url", "query", "description"]) {
    if (typeof input[key] === "string") return clip(input[key] as string);
  }
  const json = JSON.stringify(input);
  return json === "{}" ? "" : clip(json);
}

function blockItems(seq: number, blocks: TranscriptBlock[]): Item[] {
  const out: Item[] = [];
  for (const b of blocks) {
    if (b.kind === "text" && b.text.trim() !== "") out.push({ kind: "text", seq, text: b.text });
    else if (b.kind === "tool_use") {
      out.push({ kind: "tool", seq, label: toolLabel(b.name), detail: toolDetail(b.input) });
    } else if (b.kind === "tool_result") {
      out.push({
        kind: "tool_result",
        seq,
        text: clip(b.text) || "(no output)",
        isError: b.isError,
      });
    }
  }
  return out;
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
  const entry = parseTranscriptLine(raw);
  switch (entry.kind) {
    case "missing":
      return [{ kind: "notice", seq, text: "(a long line, not shown here)" }];
    case "assistant":
      if (entry.apiError !== null) return [{ kind: "error", seq, text: clip(entry.apiError, 400) }];
      return blockItems(seq, entry.blocks);
    case "user":
      // Only tool results: the user's own words are the widget's turns, not claude's lines.
      return blockItems(seq, entry.blocks.filter((b) => b.kind === "tool_result"));
    case "result": {
      if (!entry.isError) return [];
      const text = entry.text || entry.errors.join("; ") ||
        `The turn ended with ${entry.subtype ?? "an error"}`;
      return [{ kind: "error", seq, text: clip(text, 400) }];
    }
    case "system":
      if (entry.subtype === "api_retry") {
        return [{
          kind: "notice",
          seq,
          text: `Retrying the API (attempt ${entry.attempt ?? "?"})`,
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
