/**
 * `usage.get`: the latest rate-limit snapshot (per window), tokens and cost over a period (total,
 * per agent, and an hourly burn-rate series), cost today, the OAuth usage poll and the proxy's
 * state. Read-only over the store; no I/O of its own.
 * @module
 */
import type { ProxyScope } from "../config/mod.ts";
import type {
  AgentUsage,
  ProxyTally,
  RateLimitSnapshot,
  Store,
  UsageBucket,
  UsageSums,
} from "../store/mod.ts";
import { ZERO_USAGE_SUMS } from "../store/mod.ts";
import type { CredentialInfo, ProxyStats } from "../proxy/mod.ts";
import type { UsagePoller, UsagePollStatus, UsageWindow } from "./poll.ts";

export const USAGE_PERIODS = ["1h", "5h", "24h", "today", "7d", "30d", "all"] as const;
export type UsagePeriod = typeof USAGE_PERIODS[number];

/** A rate-limit snapshot read into windows. */
export interface RateLimitState {
  ts: number;
  agent_id: string | null;
  http_status: number;
  request_id: string | null;
  /** `anthropic-ratelimit-unified-status` (OAuth): allowed, allowed_warning, rejected. */
  unified_status: string | null;
  /** `anthropic-ratelimit-unified-reset`, epoch ms. */
  unified_resets_at: number | null;
  /** `anthropic-ratelimit-unified-representative-claim`: the window that binds (five_hour, …). */
  representative_claim: string | null;
  /** `anthropic-ratelimit-unified-fallback` and `-fallback-percentage`, as sent. */
  fallback: string | null;
  fallback_percentage: number | null;
  retry_after: string | null;
  /** Per window: unified windows (`5h`, `7d`, …) and API-key limits (`requests`, `tokens`, …). */
  windows: RateLimitWindow[];
  /** Every `anthropic-ratelimit-*` header as received. */
  headers: Record<string, string>;
}

export interface RateLimitWindow extends UsageWindow {
  /** API-key limits only. */
  limit: number | null;
  remaining: number | null;
}

export interface UsageReport {
  now: number;
  period: { name: UsagePeriod; since: number; until: number };
  rate_limit: RateLimitState | null;
  totals: UsageSums;
  /** Most expensive first (at most 100). */
  agents: AgentUsage[];
  /** Hourly buckets over the last 24 h (burn-rate sparkline). */
  series: { bucket_ms: number; buckets: UsageBucket[] };
  /** Since local midnight. */
  cost_today_usd: number;
  oauth_poll: UsagePollStatus;
  proxy: {
    scope: ProxyScope;
    upstream: string;
    credential: CredentialInfo;
    stats: ProxyStats | null;
  };
  quota: QuotaState;
  /** Present when asked for one agent. */
  agent: {
    agent_id: string;
    budget: AgentBudget;
    usage: UsageSums;
    proxy: ProxyTally | null;
    /** Its newest rate-limit snapshots (at most 20). */
    snapshots: RateLimitSnapshot[];
  } | null;
}

function number(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Epoch seconds, epoch ms or an RFC 3339 date → epoch ms. */
function instant(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  const n = Number(value);
  if (Number.isFinite(n)) return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : null;
}

const UNIFIED = "anthropic-ratelimit-unified-";
const UNIFIED_TOP = new Set([
  "status",
  "reset",
  "representative-claim",
  "fallback",
  "fallback-percentage",
]);

/** Reads the `anthropic-ratelimit-*` headers of one response into windows. */
export function readRateLimit(snapshot: RateLimitSnapshot): RateLimitState {
  const h = snapshot.headers;
  const windows = new Map<string, RateLimitWindow>();
  const windowOf = (name: string) => {
    let w = windows.get(name);
    if (!w) {
      w = { name, utilization: null, resets_at: null, status: null, limit: null, remaining: null };
      windows.set(name, w);
    }
    return w;
  };
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith(UNIFIED)) {
      const rest = name.slice(UNIFIED.length);
      if (UNIFIED_TOP.has(rest)) continue;
      const m = /^(.+)-(status|reset|utilization)$/.exec(rest);
      if (!m) continue;
      const w = windowOf(m[1]!);
      if (m[2] === "status") w.status = value;
      else if (m[2] === "reset") w.resets_at = instant(value);
      else w.utilization = number(value);
    } else {
      const m = /^anthropic-ratelimit-(.+)-(limit|remaining|reset)$/.exec(name);
      if (!m) continue;
      const w = windowOf(m[1]!);
      if (m[2] === "limit") w.limit = number(value);
      else if (m[2] === "remaining") w.remaining = number(value);
      else w.resets_at = instant(value);
    }
  }
  for (const w of windows.values()) {
    if (w.utilization === null && w.limit !== null && w.limit > 0 && w.remaining !== null) {
      w.utilization = Math.max(0, Math.min(1, 1 - w.remaining / w.limit));
    }
  }
  return {
    ts: snapshot.ts,
    agent_id: snapshot.agent_id,
    http_status: snapshot.status,
    request_id: snapshot.request_id,
    unified_status: h[`${UNIFIED}status`] ?? null,
    unified_resets_at: instant(h[`${UNIFIED}reset`]),
    representative_claim: h[`${UNIFIED}representative-claim`] ?? null,
    fallback: h[`${UNIFIED}fallback`] ?? null,
    fallback_percentage: number(h[`${UNIFIED}fallback-percentage`]),
    retry_after: h["retry-after"] ?? null,
    windows: [...windows.values()],
    headers: h,
  };
}

const HOUR = 60 * 60_000;

function periodStart(period: UsagePeriod, now: number): number {
  switch (period) {
    case "1h":
      return now - HOUR;
    case "5h":
      return now - 5 * HOUR;
    case "24h":
      return now - 24 * HOUR;
    case "today": {
      const d = new Date(now);
      d.setHours(0, 0, 0, 0);
      return d.getTime();
    }
    case "7d":
      return now - 7 * 24 * HOUR;
    case "30d":
      return now - 30 * 24 * HOUR;
    case "all":
      return 0;
  }
}

/** The quota governor's state, as `usage.get` shows it. */
export interface QuotaState {
  admission: { window: string | null; until: number; reason: string } | null;
  paused: Array<{
    agent_id: string;
    name: string | null;
    reason: string | null;
    window: string | null;
    resume_at: number | null;
    message: string | null;
  }>;
  daily_budget_usd: number | null;
  daily_remaining_usd: number | null;
  cwd_budgets: Array<{ cwd: string; budget_usd: number; used_usd: number; remaining_usd: number }>;
}

/** One agent's budgets and what is left of them. */
export interface AgentBudget {
  max_cost_usd: number | null;
  max_turns: number | null;
  cost_usd: number;
  turns: number;
  remaining_cost_usd: number | null;
  remaining_turns: number | null;
}

export interface UsageServiceOptions {
  store: Pick<
    Store,
    | "rateLimitSnapshots"
    | "usageSums"
    | "usageByAgent"
    | "usageSeries"
    | "proxyTally"
    | "getAgent"
    | "listAgentsByStatus"
    | "usageCostUnder"
  >;
  /** Why new starts wait (the supervisor's admission), or null. */
  admission?: () => QuotaState["admission"];
  /** The daily cost cap, or null. */
  dailyBudgetUsd?: number | null;
  /** Daily caps per working directory (absolute path → USD). */
  cwdDailyBudgetsUsd?: Readonly<Record<string, number>>;
  poller: Pick<UsagePoller, "status">;
  scope: ProxyScope;
  upstream: string;
  credential: () => CredentialInfo;
  proxyStats: () => ProxyStats | null;
}

/** Builds `usage.get` reports. */
export class UsageService {
  #o: UsageServiceOptions;

  constructor(options: UsageServiceOptions) {
    this.#o = options;
  }

  #quota(costToday: number, dayStart: number, until: number): QuotaState {
    const cap = this.#o.dailyBudgetUsd ?? null;
    const paused = this.#o.store.listAgentsByStatus(["paused"])
      .sort((a, b) => (a.resume_at ?? Infinity) - (b.resume_at ?? Infinity))
      .slice(0, 200)
      .map((a) => ({
        agent_id: a.id,
        name: a.name,
        reason: a.pause_reason,
        window: a.pause_window,
        resume_at: a.resume_at,
        message: a.error_message,
      }));
    return {
      admission: this.#o.admission?.() ?? null,
      paused,
      daily_budget_usd: cap,
      daily_remaining_usd: cap === null ? null : Math.max(0, cap - costToday),
      cwd_budgets: Object.entries(this.#o.cwdDailyBudgetsUsd ?? {}).map(([cwd, budget]) => {
        const used = this.#o.store.usageCostUnder(cwd, dayStart, until);
        return {
          cwd,
          budget_usd: budget,
          used_usd: used,
          remaining_usd: Math.max(0, budget - used),
        };
      }),
    };
  }

  #budget(agentId: string): AgentBudget {
    const a = this.#o.store.getAgent(agentId);
    const cost = a?.total_cost_usd ?? 0;
    const turns = a?.num_turns ?? 0;
    const maxCost = a?.max_cost_usd ?? null;
    const maxTurns = a?.max_turns ?? null;
    return {
      max_cost_usd: maxCost,
      max_turns: maxTurns,
      cost_usd: cost,
      turns,
      remaining_cost_usd: maxCost === null ? null : Math.max(0, maxCost - cost),
      remaining_turns: maxTurns === null ? null : Math.max(0, maxTurns - turns),
    };
  }

  report(
    options: { period?: UsagePeriod; agentId?: string | null; now?: number } = {},
  ): UsageReport {
    const now = options.now ?? Date.now();
    const name = options.period ?? "24h";
    const since = periodStart(name, now);
    const until = now + 1;
    const { store } = this.#o;
    const latest = store.rateLimitSnapshots(1)[0];
    const seriesSince = Math.floor((now - 23 * HOUR) / HOUR) * HOUR;
    const agentId = options.agentId ?? null;
    const agentUsage = agentId ? store.usageByAgent(since, until, 1, agentId)[0] : undefined;
    const costToday = store.usageSums(periodStart("today", now), until).cost_usd;
    return {
      now,
      period: { name, since, until },
      rate_limit: latest ? readRateLimit(latest) : null,
      totals: store.usageSums(since, until),
      agents: store.usageByAgent(since, until, 100),
      series: {
        bucket_ms: HOUR,
        buckets: store.usageSeries(seriesSince, seriesSince + 24 * HOUR, HOUR),
      },
      cost_today_usd: costToday,
      quota: this.#quota(costToday, periodStart("today", now), until),
      oauth_poll: this.#o.poller.status(),
      proxy: {
        scope: this.#o.scope,
        upstream: this.#o.upstream,
        credential: this.#o.credential(),
        stats: this.#o.proxyStats(),
      },
      agent: agentId
        ? {
          agent_id: agentId,
          budget: this.#budget(agentId),
          usage: agentUsage ?? { ...ZERO_USAGE_SUMS },
          proxy: store.proxyTally(agentId) ?? null,
          snapshots: store.rateLimitSnapshots(20, agentId),
        }
        : null,
    };
  }
}
