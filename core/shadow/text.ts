/**
 * Pure text helpers of the shadows: the fallback title, the prompts, and the checks a shadow's
 * answer must pass before it is used. A shadow's answer is only ever read from a result line with
 * `is_error: false`; these checks then make sure its shape fits (a title of 2–6 words, a
 * conventional commit message), so a chatty or odd answer falls back instead of becoming a name.
 * @module
 */

import { plain } from "../models/mod.ts";

// The fallback title is neutral ground (the supervisor names agents with it): it lives in models.
export { fallbackTitle, plain } from "../models/mod.ts";

/** Marker sentence of the naming prompt (tests recognise shadow requests by it). */
export const NAMING_INSTRUCTION =
  "Write a short title, 2 to 6 words, for the task below. Reply with the title only: no quotes, no trailing punctuation, no explanation.";

/** The naming shadow's prompt (the task is truncated to 4000 characters). */
export function namingPrompt(taskPrompt: string): string {
  const task = taskPrompt.length > 4000 ? `${taskPrompt.slice(0, 4000)}…` : taskPrompt;
  return `${NAMING_INSTRUCTION}\n\n<task>\n${task}\n</task>`;
}

/**
 * A shadow's answer as a title, or null when it is not one: the first non-empty line, without
 * surrounding quotes/markup, a `Title:` prefix or trailing punctuation, 2–6 words, ≤ 80 chars.
 */
export function cleanTitle(answer: string | null): string | null {
  if (!answer) return null;
  const line = answer.split(/\r?\n/).map((l) => plain(l)).find((l) => l.length > 0);
  if (!line) return null;
  let title = line.replace(/^(#+\s*)?(title\s*:\s*)/i, "");
  title = title.replace(/^["'`*_“”‘’\s]+|["'`*_“”‘’\s]+$/g, "");
  title = title.replace(/[.!?;:,]+$/, "").trim();
  const words = title.split(" ").filter((w) => w.length > 0);
  if (words.length < 2 || words.length > 6 || title.length > 80) return null;
  return words.join(" ");
}

export const COMMIT_INSTRUCTION =
  "Write a git commit message in the Conventional Commits format for the change below. First line: type(optional scope): summary, at most 72 characters, type one of feat, fix, docs, style, refactor, perf, test, build, ci, chore, revert. Optionally a blank line and a short body. Reply with the commit message only.";

/** The commit shadow's prompt: status and diff (already bounded by the caller). */
export function commitPrompt(status: string, diff: string): string {
  return `${COMMIT_INSTRUCTION}\n\n<status>\n${status}\n</status>\n\n<diff>\n${diff}\n</diff>`;
}

const CONVENTIONAL =
  /^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\([^()\n]{1,40}\))?!?: \S.{0,98}$/;

/**
 * A shadow's answer as a conventional commit message, or null: code fences stripped, the first
 * line must match `type(scope)!: summary` (≤ 100 chars); a body (≤ 2000 chars) is kept.
 */
export function cleanCommitMessage(answer: string | null): string | null {
  if (!answer) return null;
  let text = answer.replace(/\r\n?/g, "\n").trim();
  const fenced = /^```[a-z]*\n([\s\S]*?)\n```$/.exec(text);
  if (fenced) text = fenced[1]!.trim();
  // deno-lint-ignore no-control-regex
  text = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "");
  const [first = "", ...rest] = text.split("\n");
  const subject = first.trim().replace(/^["'`]+|["'`]+$/g, "");
  if (!CONVENTIONAL.test(subject)) return null;
  const body = rest.join("\n").trim();
  if (body.length > 2000) return subject;
  return body ? `${subject}\n\n${body}` : subject;
}

/** The message used when the commit shadow failed or answered something unusable. */
export function fallbackCommitMessage(agentName: string | null, files: readonly string[]): string {
  const what = agentName ? plain(agentName).slice(0, 50) : "agent changes";
  return `chore: ${what}\n\nFiles: ${files.slice(0, 20).join(", ")}${
    files.length > 20 ? `, … (${files.length} in all)` : ""
  }`;
}
