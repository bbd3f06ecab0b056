/**
 * What the widget shows of a running turn besides its stored lines: the text the model is
 * writing (`delta` events, until the assembled `assistant` line is stored) and the permission
 * prompts waiting for an answer. Neither is durable here: live text is lost on reload (the stored
 * line follows), prompts are read back from `agent.get`'s `pending_approvals`.
 * @module
 */
import type { Approval, DeltaEventData } from "@hero/sdk";

/** The text blocks of the message being written, joined. */
export class LiveText {
  #messageId: string | null = null;
  #blocks = new Map<number, string>();

  /** The text written so far ("" when nothing streams). */
  get text(): string {
    return [...this.#blocks.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]).join("\n\n");
  }

  /** Appends one delta; returns whether the shown text changed. */
  add(d: DeltaEventData): boolean {
    // Thinking is not shown in the widget, nor a subagent's text (it belongs to its tool call).
    if (d.kind !== "text" || d.parent_tool_use_id !== null || d.text === "") return false;
    if (d.message_id !== this.#messageId) {
      this.#messageId = d.message_id;
      this.#blocks.clear();
    }
    this.#blocks.set(d.index, (this.#blocks.get(d.index) ?? "") + d.text);
    return true;
  }

  /** The stored line took over (or a new turn starts); returns whether anything was shown. */
  clear(): boolean {
    const had = this.#blocks.size > 0;
    this.#blocks.clear();
    return had;
  }
}

/** One agent's pending permission prompts, oldest first. */
export class PendingApprovals {
  #byId = new Map<string, Approval>();

  get list(): Approval[] {
    return [...this.#byId.values()].sort((a, b) => a.created_at - b.created_at);
  }

  /** Applies rows (a load or events): pending ones stay, answered ones leave. */
  apply(rows: readonly Approval[]): void {
    for (const row of rows) {
      if (row.state === "pending") this.#byId.set(row.id, row);
      else this.#byId.delete(row.id);
    }
  }

  /** Replaces everything with `rows` (a fresh `agent.get`). */
  reset(rows: readonly Approval[]): void {
    this.#byId.clear();
    this.apply(rows);
  }
}
