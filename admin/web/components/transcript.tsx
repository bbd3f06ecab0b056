/**
 * The live transcript: the loaded window of lines (state/transcript.ts) as virtualised rows,
 * with tool results attached to their calls and older pages loaded on scroll.
 * @module
 */
import { useMemo } from "preact/hooks";
import { type Entry, onlyToolResults, parseLine } from "../lib/line.ts";
import { type SearchTarget, useSearchTarget } from "./search_target.ts";
import {
  hasOlder,
  type Line,
  lines,
  loadFull,
  loadOlder,
  olderState,
  transcriptError,
} from "../state/transcript.ts";
import { EntryView } from "./entry_view.tsx";
import { liveBlocks } from "../state/live_text.ts";
import type { ToolResult } from "./tool_call.tsx";
import { VirtualList } from "./virtual_list.tsx";

const parsed = new WeakMap<Line, Entry>();

function entryOf(line: Line): Entry {
  let entry = parsed.get(line);
  if (!entry) {
    entry = line.parseError && line.raw !== null
      ? { kind: "invalid", text: line.raw }
      : parseLine(line.raw, line.bytes);
    parsed.set(line, entry);
  }
  return entry;
}

interface Row {
  line: Line;
  entry: Entry;
}

/**
 * The transcript of the page's agent; `target`: a search hit to scroll to and highlight;
 * `forkFrom`: the agent id assistant messages offer "Fork from here" for (null: no forking).
 */
export function Transcript(
  { live, target, forkFrom }: { live: boolean; target?: SearchTarget; forkFrom?: string | null },
) {
  const all = lines.value;
  const { rows, results } = useMemo(() => {
    const results = new Map<string, ToolResult>();
    const calls = new Set<string>();
    const entries = all.map((line) => ({ line, entry: entryOf(line) }));
    for (const { entry } of entries) {
      if (entry.kind === "assistant") {
        for (const b of entry.blocks) if (b.kind === "tool_use") calls.add(b.id);
      } else if (entry.kind === "user") {
        for (const b of entry.blocks) {
          if (b.kind === "tool_result") {
            results.set(b.toolUseId, { text: b.text, isError: b.isError });
          }
        }
      }
    }
    // A line holding only results of calls shown above is folded into those calls.
    const rows: Row[] = entries.filter(({ entry }) =>
      !(onlyToolResults(entry) && entry.kind === "user" &&
        entry.blocks.every((b) => b.kind === "tool_result" && calls.has(b.toolUseId)))
    );
    return { rows, results };
  }, [all]);

  // A hit on a line folded into a tool call above shows that call.
  const targetKey = useSearchTarget(target, rows.map((r) => r.line.seq));
  const older = hasOlder();
  const state = olderState.value;
  const error = transcriptError.value;
  return (
    <section class="transcript" aria-label="Transcript">
      {error ? <p class="alert alert-error" role="alert">{error}</p> : null}
      <VirtualList<Row>
        items={rows}
        keyOf={(r) => r.line.seq}
        label="Agent output"
        scrollToKey={targetKey}
        onNearTop={older ? () => void loadOlder() : undefined}
        header={state === "loading" ? <span class="pill">Loading older lines…</span> : null}
        footer={
          <div class="transcript-foot">
            <LiveText />
            {rows.length === 0 && liveBlocks.value.length === 0
              ? <p class="meta">{live ? "Waiting for output…" : "No output."}</p>
              : live
              ? <p class="meta live-dot">Live</p>
              : null}
          </div>
        }
        render={(r) => (
          <EntryView
            line={r.line}
            entry={r.entry}
            results={results}
            onLoadFull={(seq) => void loadFull(seq)}
            forkFrom={forkFrom ?? null}
          />
        )}
      />
      <p class="transcript-status meta" data-testid="transcript-range">
        {all.length > 0
          ? `Lines ${all[0]!.seq}–${all[all.length - 1]!.seq} loaded${
            older ? " · scroll up for older" : ""
          }`
          : ""}
      </p>
    </section>
  );
}

/** What the model is writing now (deltas, not yet stored): thinking folded, text as it comes. */
function LiveText() {
  const blocks = liveBlocks.value;
  if (blocks.length === 0) return null;
  return (
    <div class="live-text" data-testid="live-text" aria-live="polite">
      {blocks.map((b) =>
        b.kind === "thinking"
          ? (
            <details key={b.index} class="thinking">
              <summary>Thinking…</summary>
              <pre class="live-text-body">{b.text}</pre>
            </details>
          )
          : <p key={b.index} class="live-text-body" data-testid="live-text-body">{b.text}</p>
      )}
    </div>
  );
}
