/**
 * Review comments on an agent's diff: the line numbers of a unified diff's lines, and the one
 * follow-up prompt "Request changes" sends (file:line, the quoted line, the comment).
 * @module
 */

/** Where a diff line sits: its kind and its number in the new (or, removed, the old) file. */
export interface DiffLine {
  text: string;
  kind: "add" | "del" | "ctx" | "hunk" | "meta";
  /** The line's number in the new file (in the old one for a removed line); null for headers. */
  line: number | null;
}

/** A comment on one line of one file's diff. */
export interface ReviewComment {
  path: string;
  line: number;
  removed: boolean;
  /** The diff line as shown, with its +/-/space marker. */
  quote: string;
  text: string;
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/** The lines of a unified diff with their kind and line number. */
export function numberDiffLines(lines: string[]): DiffLine[] {
  let oldLine = 0;
  let newLine = 0;
  let inHunk = false;
  return lines.map((text): DiffLine => {
    const hunk = HUNK.exec(text);
    if (hunk) {
      oldLine = Number(hunk[1]);
      newLine = Number(hunk[2]);
      inHunk = true;
      return { text, kind: "hunk", line: null };
    }
    if (!inHunk || text.startsWith("\\")) return { text, kind: "meta", line: null };
    if (text.startsWith("diff ")) {
      inHunk = false;
      return { text, kind: "meta", line: null };
    }
    if (text.startsWith("+")) return { text, kind: "add", line: newLine++ };
    if (text.startsWith("-")) return { text, kind: "del", line: oldLine++ };
    oldLine++;
    return { text, kind: "ctx", line: newLine++ };
  });
}

/** The follow-up that asks the agent to address `comments`, in file and line order. */
export function changesPrompt(comments: ReviewComment[]): string {
  const sorted = [...comments].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line
  );
  const blocks = sorted.map((c) =>
    [
      `${c.path}:${c.line}${c.removed ? " (a line you removed)" : ""}`,
      `> ${c.quote}`,
      c.text.trim(),
    ].join("\n")
  );
  return [
    `Review: changes requested (${comments.length} ${
      comments.length === 1 ? "comment" : "comments"
    }). Address each comment on your changes below, then stop.`,
    ...blocks,
  ].join("\n\n");
}
