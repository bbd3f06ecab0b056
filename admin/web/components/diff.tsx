/** A line diff (Edit/Write tool calls), text nodes only, long diffs cut with "show all". */
import { useState } from "preact/hooks";
import { diffLines } from "../lib/diff.ts";
import { cleanText } from "../lib/sanitize.ts";

const SHOWN_LINES = 300;

/** Diff of `before` → `after`. */
export function Diff({ before, after }: { before: string; after: string }) {
  const [all, setAll] = useState(false);
  const lines = diffLines(cleanText(before), cleanText(after));
  const shown = all ? lines : lines.slice(0, SHOWN_LINES);
  const added = lines.filter((l) => l.op === "+").length;
  const removed = lines.filter((l) => l.op === "-").length;
  return (
    <div class="diff">
      <div class="diff-stat">
        <span class="diff-stat-add">+{added}</span> <span class="diff-stat-del">−{removed}</span>
      </div>
      <pre class="diff-lines">
        {shown.map((l, i) => (
          <div key={i} class={l.op === "+" ? "diff-add" : l.op === "-" ? "diff-del" : "diff-ctx"}>
            <span class="diff-op" aria-hidden="true">{l.op}</span>
            <span class="sr-only">{l.op === "+" ? "added: " : l.op === "-" ? "removed: " : ""}</span>
            {l.text || " "}
          </div>
        ))}
      </pre>
      {lines.length > shown.length
        ? (
          <button type="button" class="link-button" onClick={() => setAll(true)}>
            Show all {lines.length} lines
          </button>
        )
        : null}
    </div>
  );
}
