/**
 * The fallback title: the deterministic name an agent gets at once when created without one.
 * Neutral ground: the supervisor names agents with it, the naming shadow replaces only it.
 * @module
 */

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Collapses whitespace and removes control and bidi characters. */
export function plain(text: string): string {
  return text.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
}

const FALLBACK_WORDS = 6;
const FALLBACK_CHARS = 60;

/**
 * The deterministic name an agent gets at once when created without one: the prompt's first
 * words (at most 6 words and 60 characters), or `untitled` for a prompt without any.
 */
export function fallbackTitle(prompt: string): string {
  const words = plain(prompt).split(" ").filter((w) => w.length > 0).slice(0, FALLBACK_WORDS);
  let title = words.join(" ");
  if (title.length > FALLBACK_CHARS) title = `${title.slice(0, FALLBACK_CHARS - 1).trimEnd()}…`;
  return title || "untitled";
}
