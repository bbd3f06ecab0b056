/**
 * Text rendering shared by the commands: the agent table, one agent's details, and a readable
 * line per stored stream-json message.
 * @module
 */
import {
  activeMs,
  type Agent,
  formatCost,
  formatDuration,
  parseTranscriptLine,
  type TranscriptBlock,
  type TranscriptEntry,
} from "@hero/sdk";
import type { Colors } from "../color.ts";

/** Terminal statuses and `awaiting_review` (waiting for the operator). */
export const SETTLED = new Set(["awaiting_review", "completed", "failed", "cancelled"]);

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `3s`, `5m`, `2h`, `4d` ago. */
export function age(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function statusColor(status: string, c: Colors): (t: string) => string {
  if (status === "failed") return c.red;
  if (status === "cancelled") return c.dim;
  if (status === "running" || status === "queued") return c.yellow;
  return c.green;
}

/** A fixed-width table of agents, newest first. */
export function agentTable(agents: Agent[], c: Colors, now = Date.now()): string {
  const rows = agents.map((a) => [
    a.id,
    a.status,
    a.model,
    a.effort,
    age(a.created_at, now),
    formatCost(a.total_cost_usd),
    oneLine(a.name ?? a.prompt, 60),
  ]);
  const head = ["ID", "STATUS", "MODEL", "EFFORT", "AGE", "COST", "NAME / PROMPT"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], paint?: (i: number, text: string) => string) =>
    cells.map((cell, i) => {
      const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i]!);
      return paint ? paint(i, padded) : padded;
    }).join("  ").trimEnd() + "\n";
  return c.bold(line(head)) +
    rows.map((r) => line(r, (i, t) => (i === 1 ? statusColor(r[1]!, c)(t) : t))).join("");
}

function time(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString();
}

/** Time spent running turns, with the current stretch when running (not wall time). */
function activeTime(a: Agent, now: number): string {
  return formatDuration(activeMs(a, now)) + (a.active_since === null ? "" : " (running)");
}

/** `key: value` lines describing one agent. */
export function agentDetails(a: Agent, c: Colors, now = Date.now()): string {
  const rows: Array<[string, string]> = [
    ["id", a.id],
    ["name", a.name ?? "-"],
    ["status", statusColor(a.status, c)(a.status)],
    ["kind", a.kind],
    ["model", `${a.model} (effort ${a.effort})`],
    ["cwd", a.cwd],
    ["created", time(a.created_at)],
    ["started", time(a.started_at)],
    ["finished", time(a.finished_at)],
    ["active", activeTime(a, now)],
    ["session", a.session_id ?? "-"],
    ["pid", a.pid === null ? "-" : String(a.pid)],
    ["turns", `${a.turn_count} (${a.num_turns} API round trips)`],
    ["tokens", `${a.input_tokens} in, ${a.output_tokens} out, ${a.cache_read_tokens} cache read`],
    ["cost", formatCost(a.total_cost_usd)],
    ["messages", String(a.last_seq)],
  ];
  if (a.exit_code !== null || a.exit_signal) {
    rows.push(["exit", a.exit_signal ? `signal ${a.exit_signal}` : `code ${a.exit_code}`]);
  }
  if (a.error_code) rows.push(["error", c.red(`${a.error_code}: ${a.error_message ?? ""}`)]);
  if (a.error_fix) rows.push(["fix", a.error_fix]);
  rows.push(["prompt", oneLine(a.prompt, 200)]);
  if (a.result !== null) rows.push(["result", a.result]);
  if (a.stderr_tail) rows.push(["stderr", oneLine(a.stderr_tail.slice(-400), 400)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${c.dim(k.padEnd(width))}  ${v}\n`).join("");
}

function blockLines(blocks: TranscriptBlock[], c: Colors, user: boolean): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (user) {
      if (b.kind === "tool_result") {
        out.push((b.isError ? c.red : c.dim)(`← ${oneLine(b.text, 120)}`));
      } else if (b.kind === "text" && b.text) out.push(`user: ${oneLine(b.text, 200)}`);
    } else if (b.kind === "text" && b.text) out.push(b.text.trim());
    else if (b.kind === "tool_use") {
      out.push(c.yellow(`→ ${b.name}(${oneLine(JSON.stringify(b.input), 120)})`));
    } else if (b.kind === "thinking") out.push(c.dim("(thinking)"));
  }
  return out;
}

function entryLines(entry: TranscriptEntry, c: Colors): string[] {
  switch (entry.kind) {
    case "init":
      return [`system init: model ${entry.model ?? "?"}, session ${entry.sessionId ?? "?"}`];
    case "system":
      // the parser names a system line without subtype "system"
      return [entry.subtype === "system" ? "system" : `system ${entry.subtype}`];
    case "assistant":
      return blockLines(entry.blocks, c, false);
    case "prompt": {
      // claude's echo of a prompt we sent (first or follow-up): the operator's side of the
      // conversation, in full, quoted like a mail reply.
      const text = entry.text.trim();
      return text ? [c.bold(`> ${text.replace(/\n/g, "\n> ")}`)] : [];
    }
    case "user":
      return blockLines(entry.blocks, c, true);
    case "result": {
      const cost = entry.costUsd !== null ? `, $${entry.costUsd.toFixed(4)}` : "";
      const paint = entry.isError ? c.red : c.green;
      return [paint(`result ${entry.subtype ?? ""}${cost}: ${entry.text?.trim() ?? ""}`)];
    }
    case "rate_limit":
      return [c.dim("rate_limit_event")];
    case "other":
      return [c.dim([entry.type, entry.subtype].filter(Boolean).join("/"))];
    case "invalid":
    case "missing":
      return [];
  }
}

/**
 * One readable line (or a few) for a stored stream-json line: assistant text, tool calls and
 * results, the final result; other types as `type/subtype`. Unparsable lines are shown as such.
 */
export function renderMessage(
  m: {
    seq: number;
    raw: string | null;
    type: string | null;
    subtype: string | null;
    parse_error: boolean;
    byte_length: number;
  },
  c: Colors,
): string {
  const seq = c.dim(`${String(m.seq).padStart(4)} `);
  if (m.raw === null) return `${seq}${m.type ?? "?"}: (${m.byte_length} bytes, not inlined)\n`;
  if (m.parse_error) return `${seq}${c.red("unparsable line")}: ${oneLine(m.raw, 160)}\n`;
  const entry = parseTranscriptLine(m.raw);
  const out = entry.kind === "invalid" ? [oneLine(m.raw, 160)] : entryLines(entry, c);
  if (out.length === 0) return "";
  return out.map((text) => `${seq}${text.replace(/\n/g, "\n      ")}\n`).join("");
}
