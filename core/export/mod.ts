/**
 * Exports of an agent's transcript: the stored lines verbatim (JSONL, byte for byte) or a readable
 * Markdown document. Both stream from the store a page at a time, as the reader pulls.
 * @module
 */
import type { Agent } from "../models/mod.ts";
import type { Store } from "../store/mod.ts";
import { markdownHead, markdownOfLine, markdownTail } from "./markdown.ts";

export { fence, markdownOfLine } from "./markdown.ts";

export const EXPORT_FORMATS = ["jsonl", "markdown"] as const;
export type ExportFormat = typeof EXPORT_FORMATS[number];

const PAGE = 500;
const NEWLINE = new Uint8Array([0x0a]);

/** The download's file name: `<name-slug>-<id prefix>.<ext>`. */
export function exportFileName(agent: Agent, format: ExportFormat): string {
  const slug = (agent.name ?? "agent").toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "").slice(0, 48) || "agent";
  return `${slug}-${agent.id.slice(0, 8)}.${format === "jsonl" ? "jsonl" : "md"}`;
}

export function exportContentType(format: ExportFormat): string {
  return format === "jsonl" ? "application/x-ndjson" : "text/markdown; charset=utf-8";
}

/**
 * The export of `agent` as a byte stream. The agent row is the one given (taken when the export
 * began); lines are read up to the agent's `last_seq` at that moment, so a running agent's export
 * is a consistent prefix.
 */
export function exportStream(
  store: Store,
  agent: Agent,
  format: ExportFormat,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const lastSeq = agent.last_seq;
  let after = 0;
  let started = false;
  let ended = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (format === "markdown" && !started) {
        started = true;
        controller.enqueue(encoder.encode(markdownHead(agent)));
        return;
      }
      if (ended) return;
      const lines = after >= lastSeq ? [] : store.readRawLines(agent.id, after, PAGE)
        .filter((l) => l.seq <= lastSeq);
      if (lines.length === 0) {
        ended = true;
        if (format === "markdown") controller.enqueue(encoder.encode(markdownTail(agent)));
        controller.close();
        return;
      }
      after = lines.at(-1)!.seq;
      if (format === "jsonl") {
        for (const line of lines) {
          controller.enqueue(line.raw);
          if (!line.eofNoNewline) controller.enqueue(NEWLINE);
        }
      } else {
        const text = lines.map((l) => markdownOfLine(decoder.decode(l.raw))).join("");
        if (text) controller.enqueue(encoder.encode(text));
      }
    },
  }, { highWaterMark: 1 });
}
