/**
 * Live text from `stream_event` lines (`--include-partial-messages`): the text and thinking
 * deltas of a message as the model writes them. They are shown live and never stored; the
 * assembled `assistant` line that follows is the durable record.
 * @module
 */

/** One piece of text or thinking the model just wrote. */
export interface TextDelta {
  /** The API message it belongs to (`api_message_id`), or null when the CLI did not say. */
  messageId: string | null;
  /** The content block's index within the message. */
  index: number;
  kind: "text" | "thinking";
  text: string;
  /** Set on a subagent's delta: the tool call that runs it. */
  parentToolUseId: string | null;
}

/** The text or thinking delta a `stream_event` line carries, or null (any other line or event). */
export function readDelta(value: Record<string, unknown>): TextDelta | null {
  if (value.type !== "stream_event") return null;
  const event = value.event as Record<string, unknown> | undefined;
  if (event?.type !== "content_block_delta") return null;
  const delta = event.delta as Record<string, unknown> | undefined;
  let kind: TextDelta["kind"];
  let text: unknown;
  if (delta?.type === "text_delta") {
    kind = "text";
    text = delta.text;
  } else if (delta?.type === "thinking_delta") {
    kind = "thinking";
    text = delta.thinking;
  } else return null;
  if (typeof text !== "string" || text === "") return null;
  return {
    messageId: typeof value.api_message_id === "string" ? value.api_message_id : null,
    index: typeof event.index === "number" ? event.index : 0,
    kind,
    text,
    parentToolUseId: typeof value.parent_tool_use_id === "string" ? value.parent_tool_use_id : null,
  };
}
