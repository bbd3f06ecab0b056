/**
 * A readable Markdown transcript of one agent: its prompts, answers, thinking and tool calls
 * (folded in `<details>` as code blocks), each turn's outcome and a cost summary. Pure: lines in,
 * text out, one line at a time, so an export of any size streams.
 * @module
 */
import type { Agent } from "../models/mod.ts";

/** Longest tool input or output written out; the rest is summarised. */
export const MAX_TOOL_TEXT = 8_000;

type Json = Record<string, unknown>;

function record(value: unknown): Json | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Json
    : null;
}

/** A fenced code block whose fence cannot be closed by the content. */
export function fence(text: string, lang = ""): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${text}\n${ticks}`;
}

function bounded(text: string): string {
  if (text.length <= MAX_TOOL_TEXT) return text;
  return `${text.slice(0, MAX_TOOL_TEXT)}\n… (${text.length - MAX_TOOL_TEXT} more characters)`;
}

/** `<summary>` text: one line, no markup that could close the element. */
function summaryText(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 120).replace(
    /[<>&]/g,
    (c) => c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&amp;",
  );
}

function quote(text: string): string {
  return text.split("\n").map((l) => (l ? `> ${l}` : ">")).join("\n");
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((b) => {
    const block = record(b);
    return block?.type === "text" && typeof block.text === "string" ? block.text : "";
  }).filter(Boolean).join("\n\n");
}

function toolLabel(name: string, input: Json | null): string {
  const hint = input?.command ?? input?.file_path ?? input?.path ?? input?.pattern ?? input?.url;
  return typeof hint === "string" ? `${name}: ${hint}` : name;
}

function money(usd: number): string {
  return usd >= 0.01 ? `$${usd.toFixed(2)}` : usd > 0 ? `$${usd.toFixed(4)}` : "$0";
}

/** The document's head: what the agent is, where it ran, how it ended. */
export function markdownHead(agent: Agent): string {
  const rows = [
    `# ${agent.name?.trim() || agent.id}`,
    "",
    `- Agent: \`${agent.id}\``,
    `- Working directory: \`${agent.cwd}\``,
    `- Model: ${agent.model}, effort ${agent.effort}`,
    `- Status: ${agent.status}${agent.error_code ? ` (${agent.error_code})` : ""}`,
    `- Created: ${new Date(agent.created_at).toISOString()}`,
  ];
  if (agent.session_id) rows.push(`- Session: \`${agent.session_id}\``);
  return `${rows.join("\n")}\n\n`;
}

/** The closing summary: turns, tokens and cost. */
export function markdownTail(agent: Agent): string {
  const tokens = agent.input_tokens + agent.output_tokens + agent.cache_read_tokens +
    agent.cache_creation_tokens;
  const lines = [
    "---",
    "",
    "## Summary",
    "",
    `- Turns: ${agent.turn_count} (${agent.num_turns} API round trips)`,
    `- Tokens: ${tokens} (input ${agent.input_tokens}, output ${agent.output_tokens}, cache read ${agent.cache_read_tokens}, cache write ${agent.cache_creation_tokens})`,
    `- Cost: ${money(agent.total_cost_usd)}`,
  ];
  if (agent.error_message) lines.push(`- Error: ${agent.error_message.replace(/\s+/g, " ")}`);
  return `${lines.join("\n")}\n`;
}

/** The Markdown of one stored line ("" for lines a reader does not need, e.g. hooks). */
export function markdownOfLine(raw: string): string {
  let value: Json | null;
  try {
    value = record(JSON.parse(raw));
  } catch {
    return `${fence(bounded(raw))}\n\n`;
  }
  if (!value) return "";
  const message = record(value.message);
  switch (value.type) {
    case "user": {
      if (value.isReplay === true) {
        const text = textOf(message?.content);
        return text ? `## You\n\n${quote(text)}\n\n` : "";
      }
      const out: string[] = [];
      for (const b of Array.isArray(message?.content) ? message.content : []) {
        const block = record(b);
        if (block?.type !== "tool_result") continue;
        const body = typeof block.content === "string" ? block.content : textOf(block.content);
        const label = block.is_error === true ? "Tool error" : "Tool output";
        out.push(
          `<details><summary>${label}</summary>\n\n${fence(bounded(body))}\n\n</details>\n\n`,
        );
      }
      return out.join("");
    }
    case "assistant": {
      const out: string[] = [];
      for (const b of Array.isArray(message?.content) ? message.content : []) {
        const block = record(b);
        if (!block) continue;
        if (block.type === "text" && typeof block.text === "string" && block.text.trim()) {
          out.push(`${block.text.trim()}\n\n`);
        } else if (block.type === "thinking" && typeof block.thinking === "string") {
          out.push(
            `<details><summary>Thinking</summary>\n\n${
              quote(bounded(block.thinking))
            }\n\n</details>\n\n`,
          );
        } else if (block.type === "tool_use") {
          const input = record(block.input);
          const name = typeof block.name === "string" ? block.name : "tool";
          out.push(
            `<details><summary>Tool: ${summaryText(toolLabel(name, input))}</summary>\n\n${
              fence(bounded(JSON.stringify(block.input ?? {}, null, 2)), "json")
            }\n\n</details>\n\n`,
          );
        }
      }
      return out.length > 0 ? `${out.join("")}` : "";
    }
    case "result": {
      const cost = typeof value.total_cost_usd === "number"
        ? `, ${money(value.total_cost_usd)} so far`
        : "";
      const how = value.is_error === true
        ? `ended with an error${typeof value.result === "string" ? `: ${value.result}` : ""}`
        : "finished";
      const secs = typeof value.duration_ms === "number"
        ? ` in ${(value.duration_ms / 1000).toFixed(1)} s`
        : "";
      return `*Turn ${how}${secs}${cost}.*\n\n`;
    }
    default:
      return "";
  }
}
