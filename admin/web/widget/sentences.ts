/**
 * Speech text: a reply is read back sentence by sentence as it streams, so the splitter hands out
 * each sentence as soon as it is complete and keeps the unfinished rest; markdown is reduced to
 * what reads well aloud.
 * @module
 */

/** Removes markdown syntax (code fences, emphasis, headings, links, list markers). */
export function speakable(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^\s{0,3}#{1,6}\s+/gm, "")
    .replace(/^\s*(?:[-*+]|\d+[.)])\s+/gm, "")
    .replace(/(\*\*|__|\*|_|~~)(\S(?:.*?\S)?)\1/g, "$2")
    .replace(/^\s*>\s?/gm, "")
    .replace(/\|/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

const BOUNDARY = /[.!?…]+["')\]]*(?=\s)|\n{2,}|\n(?=\s*(?:[-*+]|\d+[.)])\s)/g;

/**
 * Splits streamed text into sentences.
 *
 * @example
 * ```ts
 * import { SentenceSplitter } from "./sentences.ts";
 * const s = new SentenceSplitter();
 * s.push("Hello there. How are"); // ["Hello there."]
 * s.push(" you? Fine"); // ["How are you?"]
 * s.flush(); // ["Fine"]
 * ```
 */
export class SentenceSplitter {
  #rest = "";

  /** Adds text; returns the sentences it completed. */
  push(text: string): string[] {
    this.#rest += text;
    const out: string[] = [];
    let start = 0;
    for (const m of this.#rest.matchAll(BOUNDARY)) {
      const end = m.index! + m[0].length;
      const sentence = speakable(this.#rest.slice(start, end));
      if (sentence !== "") out.push(sentence);
      start = end;
    }
    this.#rest = this.#rest.slice(start);
    return out;
  }

  /** Ends the text: returns what is left as a last sentence (if anything). */
  flush(): string[] {
    const last = speakable(this.#rest);
    this.#rest = "";
    return last === "" ? [] : [last];
  }
}
