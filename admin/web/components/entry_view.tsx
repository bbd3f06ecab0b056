/**
 * One transcript line: the operator's prompts as plain text, assistant text as safe Markdown,
 * thinking collapsed, tool calls with their results, turn results, errors highlighted, and the raw
 * JSON of the line one click away.
 * @module
 */
import { ForkBox } from "./fork_box.tsx";
import type { ComponentChild } from "preact";
import { useState } from "preact/hooks";
import type { ContentBlock, Entry } from "../lib/line.ts";
import { formatClock, formatCost, formatDuration } from "../lib/format.ts";
import { oneLine } from "../lib/sanitize.ts";
import type { Line } from "../state/transcript.ts";
import { LongText } from "./long_text.tsx";
import { Markdown } from "./markdown.tsx";
import { ToolCall, type ToolResult } from "./tool_call.tsx";

function prettyRaw(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

function Blocks(
  { blocks, results }: { blocks: ContentBlock[]; results: ReadonlyMap<string, ToolResult> },
) {
  return (
    <>
      {blocks.map((b, i) => {
        switch (b.kind) {
          case "text":
            return <Markdown key={i} text={b.text} />;
          case "thinking":
            return (
              <details key={i} class="thinking">
                <summary>Thinking</summary>
                <LongText class="thinking-body" text={b.text} />
              </details>
            );
          case "tool_use":
            return <ToolCall key={i} name={b.name} input={b.input} result={results.get(b.id)} />;
          case "tool_result":
            return (
              <div key={i} class={b.isError ? "tool-result tool-result-error" : "tool-result"}>
                <div class="tool-result-label">
                  {b.isError ? "Tool error" : "Tool result"} <code>{oneLine(b.toolUseId, 64)}</code>
                </div>
                <LongText text={b.text || "(empty)"} />
              </div>
            );
          default:
            return <p key={i} class="meta">[{oneLine(b.type, 60)} block]</p>;
        }
      })}
    </>
  );
}

function Content(
  { entry, results, line, onLoadFull }: {
    entry: Entry;
    results: ReadonlyMap<string, ToolResult>;
    line: Line;
    onLoadFull(seq: number): void;
  },
): ComponentChild {
  switch (entry.kind) {
    case "assistant":
      return (
        <>
          {entry.apiError !== null
            ? <div class="alert alert-error">API error: {oneLine(entry.apiError, 400)}</div>
            : <Blocks blocks={entry.blocks} results={results} />}
        </>
      );
    case "prompt":
      // Plain text, not Markdown: the prompt is shown exactly as it was typed.
      return (
        <div class="prompt-turn">
          <div class="prompt-turn-label">You</div>
          <LongText class="prompt-turn-text" text={entry.text} />
        </div>
      );
    case "user":
      return (
        <div class="user-turn">
          <Blocks blocks={entry.blocks} results={results} />
        </div>
      );
    case "init":
      return (
        <p class="meta">
          Session started{entry.model ? ` · ${oneLine(entry.model, 80)}` : ""}
          {entry.permissionMode ? ` · ${oneLine(entry.permissionMode, 40)}` : ""}
          {entry.tools ? ` · ${entry.tools} tools` : ""}
        </p>
      );
    case "result":
      return (
        <div class={entry.isError ? "turn-end turn-end-error" : "turn-end"}>
          <span class="turn-end-title">
            {entry.isError ? failedTurnTitle(entry.subtype) : "Turn finished"}
          </span>
          <span class="meta">
            {entry.numTurns !== null
              ? ` · ${entry.numTurns} API call${entry.numTurns === 1 ? "" : "s"}`
              : ""}
            {entry.durationMs !== null ? ` · ${formatDuration(entry.durationMs)}` : ""}
            {entry.costUsd !== null ? ` · ${formatCost(entry.costUsd)} total` : ""}
          </span>
          {entry.isError && entry.text ? <LongText text={entry.text} /> : null}
          {entry.errors.length > 0 ? <LongText text={entry.errors.join("\n")} /> : null}
        </div>
      );
    case "system":
      return (
        <p
          class={entry.subtype === "api_retry" || entry.subtype === "permission_denied"
            ? "meta meta-warn"
            : "meta"}
        >
          {oneLine(entry.subtype, 60)}
          {entry.detail ? `: ${oneLine(entry.detail, 400)}` : ""}
        </p>
      );
    case "rate_limit":
      return (
        <p class={entry.status === "rejected" ? "alert alert-error" : "meta"}>
          Rate limit: {oneLine(entry.status, 40)}
          {entry.resetsAt ? ` · resets ${new Date(entry.resetsAt * 1000).toLocaleString()}` : ""}
        </p>
      );
    case "other":
      return <p class="meta">{oneLine(entry.type, 80)}</p>;
    case "invalid":
      return (
        <div class="alert alert-error">
          <div>Unparsable output line</div>
          <LongText text={entry.text} limit={4000} />
        </div>
      );
    case "missing":
      return (
        <p class="meta">
          Line of {Math.round(entry.bytes / 1024)} KB, not sent live.{" "}
          <button type="button" class="link-button" onClick={() => onLoadFull(line.seq)}>
            Load it
          </button>
        </p>
      );
  }
}

/** True when the entry should stand out as an error. */
/**
 * A failed turn in words: an API error is reported with subtype `success` (and `is_error`), so
 * the subtype alone would read "Turn failed (success)".
 */
export function failedTurnTitle(subtype: string | null): string {
  if (subtype === null || subtype === "success") return "Turn failed: the API request failed";
  if (subtype === "error_max_turns") return "Turn stopped: it reached its maximum number of turns";
  if (subtype === "error_during_execution") return "Turn interrupted";
  if (subtype === "error_max_budget_usd") return "Turn stopped: it reached its budget";
  return `Turn failed (${oneLine(subtype, 60)})`;
}

export function isErrorEntry(entry: Entry): boolean {
  return (entry.kind === "assistant" && entry.apiError !== null) ||
    (entry.kind === "result" && entry.isError) || entry.kind === "invalid" ||
    (entry.kind === "rate_limit" && entry.status === "rejected");
}

/** One row of the transcript. */
export function EntryView(
  { line, entry, results, onLoadFull, forkFrom }: {
    line: Line;
    entry: Entry;
    results: ReadonlyMap<string, ToolResult>;
    onLoadFull(seq: number): void;
    /** The agent a "Fork from here" on an assistant message forks; null or absent: none. */
    forkFrom?: string | null;
  },
) {
  const [raw, setRaw] = useState(false);
  return (
    <article
      class={`entry entry-${entry.kind}${isErrorEntry(entry) ? " entry-error" : ""}`}
      data-seq={line.seq}
    >
      <div class="entry-gutter">
        <span class="entry-seq">#{line.seq}</span>
        <time class="entry-time" dateTime={new Date(line.ts).toISOString()}>
          {formatClock(line.ts)}
        </time>
      </div>
      <div class="entry-body">
        {raw
          ? (
            <LongText
              class="raw-json"
              text={line.raw === null ? `(${line.bytes} bytes, not loaded)` : prettyRaw(line.raw)}
            />
          )
          : <Content entry={entry} results={results} line={line} onLoadFull={onLoadFull} />}
        {forkFrom && entry.kind === "assistant"
          ? <ForkBox agentId={forkFrom} seq={line.seq} />
          : null}
      </div>
      <button
        type="button"
        class="entry-raw"
        aria-pressed={raw}
        title={raw ? "Show formatted" : "Show raw JSON"}
        aria-label={`${raw ? "Hide" : "Show"} raw JSON of line ${line.seq}`}
        onClick={() => setRaw(!raw)}
      >
        {"{ }"}
      </button>
    </article>
  );
}
