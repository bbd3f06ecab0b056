/**
 * The admin's view of one stored stream-json line: the SDK's display parser
 * ({@linkcode parseTranscriptLine}) under the names the components use, plus the helpers of the
 * dashboard and the transcript. Pure; no DOM.
 * @module
 */
import { parseTranscriptLine, type TranscriptBlock, type TranscriptEntry } from "@hero/sdk";

/** A content block of an assistant or user line. */
export type ContentBlock = TranscriptBlock;

/** What one line shows. */
export type Entry = TranscriptEntry;

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
  return parseTranscriptLine(raw, byteLength);
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
