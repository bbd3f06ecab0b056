/**
 * Terminal and Unicode hygiene for agent text before it becomes DOM text: ANSI CSI and OSC
 * sequences (colours, `ESC [2J`, OSC 8 hyperlinks, OSC 52 clipboard writes) are removed, other
 * control characters are shown as their Unicode control pictures, and bidirectional overrides
 * and isolates (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C) are shown as visible `<U+202E>`
 * tokens so they cannot reorder what the operator reads. Pure; no DOM.
 * @module
 */

// deno-lint-ignore no-control-regex
const OSC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)/g;
// deno-lint-ignore no-control-regex
const CSI = /\x1b\[[0-?]*[ -/]*[@-~]/g;
const C1_CSI = /\x9b[0-?]*[ -/]*[@-~]/g;
// deno-lint-ignore no-control-regex
const OTHER_ESC = /\x1b[@-Z\\-_]?/g;
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function picture(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return "\u2421";
  return "\ufffd";
}

/**
 * Makes agent text safe to show as text: no terminal escapes, no invisible reordering.
 * Newlines and tabs stay; `\r\n` becomes `\n`, a lone `\r` is shown as ␍.
 *
 * @example
 * ```ts
 * import { cleanText } from "./sanitize.ts";
 * cleanText("\x1b[31mred\x1b[0m \u202eevil"); // "red <U+202E>evil"
 * ```
 */
export function cleanText(text: string): string {
  return text
    .replace(OSC, "")
    .replace(CSI, "")
    .replace(C1_CSI, "")
    .replace(OTHER_ESC, "")
    .replace(/\r\n/g, "\n")
    .replace(CONTROLS, picture)
    .replace(BIDI, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}>`);
}

/** The first line of `text`, cleaned and cut to `max` characters (with an ellipsis). */
export function oneLine(text: string, max = 200): string {
  const line = cleanText(text).trim().split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The last non-empty line of `text`, cleaned and cut to `max` characters. */
export function lastLine(text: string, max = 200): string {
  const lines = cleanText(text).split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line !== "") return line.length > max ? `${line.slice(0, max - 1)}…` : line;
  }
  return "";
}

/**
 * Only absolute `http:`, `https:` and `mailto:` URLs may become links; everything else
 * (`javascript:`, `data:`, relative paths that would resolve against the admin) is shown as text.
 */
export function safeHref(url: string): string | null {
  const trimmed = url.trim();
  if (!/^(https?:\/\/|mailto:)/i.test(trimmed)) return null;
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x20\x7f<>"'`\\]/.test(trimmed)) return null;
  try {
    const parsed = new URL(trimmed);
    if (!["http:", "https:", "mailto:"].includes(parsed.protocol)) return null;
    return parsed.href;
  } catch {
    return null;
  }
}

/** A one-line preview without the most common Markdown marks (`**`, `` ` ``, `#`, `>`, `-`). */
export function previewLine(text: string, max = 200): string {
  return lastLine(text, max + 40)
    .replace(/^(#{1,6}|>|[-*+]|\d{1,9}[.)])\s+/, "")
    .replace(/\*\*|__|`/g, "")
    .slice(0, max);
}
