/**
 * Line diffs for Edit/Write tool calls: longest common subsequence over lines after trimming the
 * common head and tail, bounded (past `maxCells` the middle is shown as removed then added).
 * Pure; no DOM.
 * @module
 */

/** One diff line: ` ` kept, `-` removed, `+` added. */
export interface DiffLine {
  op: " " | "-" | "+";
  text: string;
}

/**
 * Diffs `before` against `after` line by line.
 *
 * @example
 * ```ts
 * import { diffLines } from "./diff.ts";
 * diffLines("a\nb", "a\nc"); // [{op:" ",text:"a"},{op:"-",text:"b"},{op:"+",text:"c"}]
 * ```
 */
export function diffLines(before: string, after: string, maxCells = 1_000_000): DiffLine[] {
  const a = before === "" ? [] : before.split("\n");
  const b = after === "" ? [] : after.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head && tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) tail++;
  const out: DiffLine[] = a.slice(0, head).map((text) => ({ op: " ", text }));
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const n = midA.length;
  const m = midB.length;
  if (n * m > maxCells) {
    for (const text of midA) out.push({ op: "-", text });
    for (const text of midB) out.push({ op: "+", text });
  } else {
    // lcs[i][j] = LCS length of midA[i..] and midB[j..], in one flat array.
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = midA[i] === midB[j]
          ? lcs[(i + 1) * w + j + 1]! + 1
          : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        out.push({ op: " ", text: midA[i]! });
        i++;
        j++;
      } else if (i < n && (j >= m || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
        out.push({ op: "-", text: midA[i++]! });
      } else {
        out.push({ op: "+", text: midB[j++]! });
      }
    }
  }
  for (const text of a.slice(a.length - tail)) out.push({ op: " ", text });
  return out;
}
