/** Plain agent text in a wrapped <pre>: cleaned, cut at a limit with "show all". */
import { useState } from "preact/hooks";
import { cleanText } from "../lib/sanitize.ts";

const DEFAULT_LIMIT = 20_000;

/** Shows `text` as preformatted, wrapped text. */
export function LongText(
  { text, limit = DEFAULT_LIMIT, class: cls = "" }: {
    text: string;
    limit?: number;
    class?: string;
  },
) {
  const [all, setAll] = useState(false);
  const clean = cleanText(text);
  const cut = !all && clean.length > limit;
  return (
    <div class={`longtext ${cls}`}>
      <pre>{cut ? clean.slice(0, limit) : clean}</pre>
      {cut
        ? (
          <button type="button" class="link-button" onClick={() => setAll(true)}>
            Show all ({Math.round(clean.length / 1024)} KB)
          </button>
        )
        : null}
    </div>
  );
}
