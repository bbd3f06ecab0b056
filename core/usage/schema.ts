/**
 * Contract schemas of `usage.get` (quota proxy and usage telemetry). They mirror the engine's
 * types in `service.ts`; `core/rpc/methods.ts` uses them and `core/rpc/mod.ts` re-exports them.
 * @module
 */
import { z } from "zod";

const millis = z.number().int().describe("Unix epoch milliseconds");
const count = z.number().int();

export const UsagePeriod = z.enum(["1h", "5h", "24h", "today", "7d", "30d", "all"]).meta({
  id: "UsagePeriod",
  description: "a rolling window ending now; `today` starts at local midnight",
});

export const UsageSums = z.object({
  turns: count.describe("result lines (turns) counted"),
  input_tokens: count,
  output_tokens: count,
  cache_read_tokens: count,
  cache_creation_tokens: count,
  cost_usd: z.number().describe("the CLI's own cost figures, summed"),
}).meta({ id: "UsageSums" });

export const AgentUsage = UsageSums.extend({
  agent_id: z.string().nullable().describe("null when the agent was deleted since"),
  name: z.string().nullable(),
  kind: z.string().nullable(),
  model: z.string().nullable(),
  parent_id: z.string().nullable(),
}).meta({ id: "AgentUsage" });

export const UsageBucket = UsageSums.extend({ start: millis }).meta({ id: "UsageBucket" });

export const RateLimitWindow = z.object({
  name: z.string().describe(
    "unified windows: `5h`, `7d`, `7d_opus`, …; API-key limits: `requests`, `tokens`, `input-tokens`, `output-tokens`",
  ),
  utilization: z.number().nullable().describe("fraction used, 0..1 (0.91 = 91 %)"),
  resets_at: millis.nullable(),
  status: z.string().nullable().describe("allowed, allowed_warning, rejected (unified windows)"),
  limit: z.number().nullable(),
  remaining: z.number().nullable(),
}).meta({ id: "RateLimitWindow" });

export const RateLimitState = z.object({
  ts: millis.describe("when the upstream answered"),
  agent_id: z.string().nullable(),
  http_status: count,
  request_id: z.string().nullable(),
  unified_status: z.string().nullable(),
  unified_resets_at: millis.nullable(),
  representative_claim: z.string().nullable().describe("the window that binds, e.g. five_hour"),
  fallback: z.string().nullable(),
  fallback_percentage: z.number().nullable(),
  retry_after: z.string().nullable(),
  windows: z.array(RateLimitWindow),
  headers: z.record(z.string(), z.string()).describe("every anthropic-ratelimit-* header"),
}).meta({ id: "RateLimitState" });

export const UsageWindow = z.object({
  name: z.string().describe("five_hour, seven_day, seven_day_opus, …"),
  utilization: z.number().nullable().describe("fraction used, 0..1"),
  resets_at: millis.nullable(),
  status: z.string().nullable(),
}).meta({ id: "UsageWindow" });

export const UsagePollStatus = z.object({
  status: z.enum(["disabled", "pending", "ok", "error"]),
  detail: z.string().nullable().describe("why it is disabled, or the last error"),
  url: z.string(),
  interval_ms: count,
  next_at: millis.nullable(),
  last: z.object({
    ts: millis,
    ok: z.boolean(),
    http_status: count.nullable(),
    error: z.string().nullable(),
    windows: z.array(UsageWindow),
  }).nullable(),
  last_ok: z.object({ ts: millis, windows: z.array(UsageWindow) }).nullable(),
}).meta({ id: "UsagePollStatus" });

export const ProxyStats = z.object({
  socket: z.string(),
  started_at: millis,
  requests: count,
  forwarded: count,
  in_flight: count,
  refused_token: count,
  refused_other: count,
  upstream_errors: count,
  upstream_unreachable: count,
}).meta({ id: "ProxyStats" });

export const ProxyTally = z.object({
  agent_id: z.string(),
  requests: count,
  errors: count,
  input_tokens: count,
  output_tokens: count,
  cache_read_tokens: count,
  cache_creation_tokens: count,
  bytes_in: count,
  bytes_out: count,
  first_at: millis,
  last_at: millis,
  last_status: count.nullable(),
}).meta({ id: "ProxyTally" });

export const RateLimitSnapshot = z.object({
  id: count,
  ts: millis,
  agent_id: z.string().nullable(),
  method: z.string(),
  path: z.string(),
  status: count,
  request_id: z.string().nullable(),
  headers: z.record(z.string(), z.string()),
}).meta({ id: "RateLimitSnapshot" });

export const UsageReport = z.object({
  now: millis,
  period: z.object({ name: UsagePeriod, since: millis, until: millis }),
  rate_limit: RateLimitState.nullable().describe(
    "the newest rate-limit snapshot seen by the proxy; null before any",
  ),
  totals: UsageSums,
  agents: z.array(AgentUsage).describe("per agent over the period, most expensive first (≤ 100)"),
  series: z.object({
    bucket_ms: count,
    buckets: z.array(UsageBucket).describe("the last 24 hours, one bucket per hour"),
  }),
  cost_today_usd: z.number(),
  oauth_poll: UsagePollStatus,
  proxy: z.object({
    scope: z.enum(["shadows_only", "all", "off"]),
    upstream: z.string(),
    credential: z.object({
      kind: z.enum(["api_key", "bearer", "oauth"]).nullable(),
      source: z.string().nullable(),
      expires_at: millis.nullable(),
      detail: z.string().nullable(),
    }).describe("what the proxy injects upstream (never the secret itself)"),
    stats: ProxyStats.nullable(),
  }),
  quota: z.object({
    admission: z.object({
      window: z.string().nullable(),
      until: millis,
      reason: z.string(),
    }).nullable().describe("why queued agents wait although slots are free (a rejected window)"),
    paused: z.array(z.object({
      agent_id: z.string(),
      name: z.string().nullable(),
      reason: z.string().nullable(),
      window: z.string().nullable(),
      resume_at: millis.nullable(),
      message: z.string().nullable(),
    })).describe("paused agents, the soonest resume first (≤ 200)"),
    daily_budget_usd: z.number().nullable().describe("HERO_ORCHESTRATOR_DAILY_BUDGET_USD"),
    daily_remaining_usd: z.number().nullable(),
    cwd_budgets: z.array(z.object({
      cwd: z.string(),
      budget_usd: z.number(),
      used_usd: z.number().describe("today's cost (UTC day) of agents in cwd or below it"),
      remaining_usd: z.number(),
    })).describe("HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD, with today's use"),
  }).describe("the quota governor: pauses, admission and the daily budget"),
  agent: z.object({
    agent_id: z.string(),
    budget: z.object({
      max_cost_usd: z.number().nullable(),
      max_turns: z.number().int().nullable(),
      cost_usd: z.number().describe("the agent's total cost (the CLI's figures)"),
      turns: z.number().int().describe("the agent's API round trips"),
      remaining_cost_usd: z.number().nullable(),
      remaining_turns: z.number().int().nullable(),
    }),
    usage: UsageSums,
    proxy: ProxyTally.nullable().describe("what the proxy saw on the wire for this agent"),
    snapshots: z.array(RateLimitSnapshot).describe("its newest rate-limit snapshots (≤ 20)"),
  }).nullable().describe("present when `agent_id` was given"),
}).meta({ id: "UsageReport" });
export type UsageReport = z.infer<typeof UsageReport>;
