import { z } from "zod";
import { AgentPermissionMode } from "./approval.ts";

export const AGENT_STATUSES = [
  "queued",
  "running",
  "paused",
  "awaiting_review",
  "completed",
  "failed",
  "cancelled",
] as const;
export const AgentStatus = z.enum(AGENT_STATUSES).meta({ id: "AgentStatus" });
export type AgentStatus = z.infer<typeof AgentStatus>;

export const TERMINAL_STATUSES: readonly AgentStatus[] = ["completed", "failed", "cancelled"];
/** Statuses whose agent owns (or is about to own) a live claude process. */
export const ACTIVE_STATUSES: readonly AgentStatus[] = ["queued", "running"];

/** Why an agent is `paused`. */
export const PauseReason = z.enum(["rate_limit", "budget", "manual", "storage"]).meta({
  id: "PauseReason",
});
export type PauseReason = z.infer<typeof PauseReason>;

/** Who starts first when slots or quota headroom come free (FIFO within one priority). */
export const Priority = z.enum(["high", "normal", "low"]).meta({ id: "Priority" });
export type Priority = z.infer<typeof Priority>;

export const AgentKind = z.enum(["standard", "planner", "shadow", "imported"]).meta({
  id: "AgentKind",
});
export type AgentKind = z.infer<typeof AgentKind>;

export const Effort = z.enum(["none", "low", "medium", "high", "xhigh", "max"]).meta({
  id: "Effort",
});
export type Effort = z.infer<typeof Effort>;

/** Stable machine codes for why an agent failed or was stopped. */
export const AgentErrorCode = z.enum([
  "spawn_failed",
  "exit_nonzero",
  "exit_without_result",
  "api_error",
  "turn_error",
  "line_too_long",
  "stdout_closed",
  "rate_limited",
  "idle_timeout",
  "max_runtime",
  "daemon_restart",
  "daemon_shutdown",
  "cancelled",
  "storage_error",
  "invalid_cwd",
  "not_logged_in",
  "invalid_api_key",
  "claude_not_found",
  "root_without_sandbox",
  "upstream_unreachable",
]).meta({ id: "AgentErrorCode" });
export type AgentErrorCode = z.infer<typeof AgentErrorCode>;

const millis = z.number().int().describe("Unix epoch milliseconds");

/** Longest `X-Hero-Context` value stored. */
export const MAX_HERO_CONTEXT_CHARS = 4096;

/** A canonical Hero service name (`hero_books`): an agent's home MCP. */
export const HomeMcp = z.string().max(64).regex(/^hero_[a-z0-9_]+$/).meta({
  id: "HomeMcp",
  description: "a canonical Hero service name matching ^hero_[a-z0-9_]+$ (at most 64 characters)",
});
export type HomeMcp = z.infer<typeof HomeMcp>;

/** An agent as the engine stores it and the API returns it. Times are epoch milliseconds. */
export const Agent = z.object({
  id: z.string(),
  name: z.string().nullable(),
  prompt: z.string(),
  cwd: z.string(),
  model: z.string(),
  effort: Effort,
  kind: AgentKind,
  status: AgentStatus,
  parent_id: z.string().nullable(),
  session_id: z.string().nullable().describe("claude session id from system/init"),
  pid: z.number().int().nullable(),
  pgid: z.number().int().nullable(),
  created_at: millis,
  updated_at: millis,
  started_at: millis.nullable(),
  finished_at: millis.nullable(),
  cancel_requested_at: millis.nullable(),
  exit_code: z.number().int().nullable(),
  exit_signal: z.string().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  error_fix: z.string().nullable().describe(
    "what a person can do about error_code, one line (derived from the code; null: nothing)",
  ),
  result: z.string().nullable().describe("text of the last result line"),
  turn_count: z.number().int().describe("result lines received"),
  num_turns: z.number().int().describe("API round trips, summed over turns"),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_read_tokens: z.number().int(),
  cache_creation_tokens: z.number().int(),
  total_cost_usd: z.number(),
  last_seq: z.number().int().describe("seq of the newest stored line (0 = none)"),
  rate_limit_resets_at: millis.nullable(),
  stderr_tail: z.string().nullable(),
  stderr_truncated: z.boolean(),
  home_mcp: HomeMcp.nullable().describe(
    "the Hero service whose hero_router MCP gateway the agent gets (widget agents); null: none",
  ),
  hero_context: z.string().nullable().describe(
    "the creator's X-Hero-Context header, passed on to the home MCP server; null when absent",
  ),
  permission_mode: AgentPermissionMode.describe(
    "the mode claude runs in; anything but bypassPermissions asks before tools run (approvals)",
  ),
  pause_reason: PauseReason.nullable().describe(
    "why the agent is paused (set while paused, and while a pause is stopping its run); else null",
  ),
  pause_window: z.string().nullable().describe(
    "the rate-limit window that rejected (five_hour, seven_day, …) for a rate_limit pause; else null",
  ),
  paused_at: millis.nullable(),
  resume_at: millis.nullable().describe(
    "when a rate_limit pause ends (the window's reset); the agent continues a skew margin later. Null: no timed resume",
  ),
  max_cost_usd: z.number().nullable().describe("budget: pause once total_cost_usd reaches this"),
  max_turns: z.number().int().nullable().describe("budget: pause once num_turns reaches this"),
  priority: Priority.describe("queue order: high before normal before low, FIFO within one"),
  active_ms: z.number().int().describe(
    "time the agent's processes spent running turns (status running), summed over finished " +
      "stretches; not queued, in review, paused or idle. Add now - active_since while running",
  ),
  active_since: millis.nullable().describe(
    "when the current running stretch began (set while status is running); else null",
  ),
}).meta({ id: "Agent" });
export type Agent = z.infer<typeof Agent>;
