/**
 * Live text of the page's agent: the `delta` events of the message its model is writing, shown
 * under the transcript until the assembled `assistant` line is stored. Nothing here is durable:
 * a reload shows the stored lines only. Text of a turn that ends without its line (cancelled)
 * stays visible until the next message starts.
 * @module
 */
import { signal } from "@preact/signals";
import type { DeltaEventData } from "@hero/sdk";

/** One content block being written. */
export interface LiveBlock {
  index: number;
  kind: "text" | "thinking";
  text: string;
}

/** The blocks of the message being written (not yet stored), in index order. */
export const liveBlocks = signal<readonly LiveBlock[]>([]);

let messageId: string | null = null;

/** Appends deltas (in arrival order); a new message id starts over. */
export function applyDeltas(deltas: readonly DeltaEventData[]): void {
  if (deltas.length === 0) return;
  const blocks = new Map(liveBlocks.peek().map((b) => [b.index, { ...b }]));
  for (const d of deltas) {
    if (d.parent_tool_use_id !== null) continue; // a subagent's text belongs to its tool call
    if (d.message_id !== messageId) {
      messageId = d.message_id;
      blocks.clear();
    }
    const block = blocks.get(d.index);
    if (block) block.text += d.text;
    else blocks.set(d.index, { index: d.index, kind: d.kind, text: d.text });
  }
  liveBlocks.value = [...blocks.values()].sort((a, b) => a.index - b.index);
}

/**
 * Stored lines arrived: an `assistant` line is the durable form of what was streamed so far, so
 * the streamed blocks give way to it (a later block of the same message streams anew).
 */
export function storedLines(types: readonly (string | null)[]): void {
  if (liveBlocks.peek().length > 0 && types.includes("assistant")) liveBlocks.value = [];
}
