/**
 * The quota governor's rules, pure: when a paused agent resumes, whether the fleet may start new
 * work, and whether an agent is over its budget. The supervisor owns the timer and the store.
 * @module
 */
import type { Agent } from "../models/mod.ts";
import type { QuotaSettings } from "../config/mod.ts";

/**
 * A stable per-agent share of `maxMs` (FNV-1a of the id): the same after a restart, so a
 * re-armed timer fires when the first one would have, and different across agents, so a paused
 * fleet does not resume in one stampede.
 */
export function resumeJitterMs(agentId: string, maxMs: number): number {
  if (maxMs <= 0) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < agentId.length; i++) {
    h ^= agentId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % (maxMs + 1);
}

/**
 * When a paused agent continues by itself (epoch ms), or null: only a person resumes it (manual,
 * budget), or storage still fails. A storage pause is due as soon as storage takes writes again.
 */
export function resumeDueAt(
  agent: Pick<Agent, "id" | "status" | "pause_reason" | "resume_at" | "paused_at">,
  quota: Pick<QuotaSettings, "resumeSkewMs" | "resumeJitterMs">,
  storageOk = true,
): number | null {
  if (agent.status !== "paused") return null;
  if (agent.pause_reason === "storage") return storageOk ? agent.paused_at ?? 0 : null;
  if (agent.pause_reason !== "rate_limit") return null;
  if (agent.resume_at === null) return null;
  return agent.resume_at + quota.resumeSkewMs + resumeJitterMs(agent.id, quota.resumeJitterMs);
}

/** Why new starts wait, and until when. */
export interface AdmissionBlock {
  /** The window that rejected or is nearly used up (five_hour, seven_day, …), or null. */
  window: string | null;
  /** When starts may go again (epoch ms). */
  until: number;
  /** For people: "waiting for the five_hour window, resets 14:05Z". */
  reason: string;
}

/**
 * Whether the fleet may start work now: not while a window is rejected (an agent is paused for
 * it and its reset + skew is ahead). Returns the block that ends last, or null.
 */
export function admissionBlock(
  paused: readonly Pick<Agent, "pause_reason" | "pause_window" | "resume_at">[],
  now: number,
  quota: Pick<QuotaSettings, "resumeSkewMs">,
): AdmissionBlock | null {
  let block: AdmissionBlock | null = null;
  for (const a of paused) {
    if (a.pause_reason !== "rate_limit" || a.resume_at === null) continue;
    const until = a.resume_at + quota.resumeSkewMs;
    if (until <= now || (block && block.until >= until)) continue;
    block = {
      window: a.pause_window,
      until,
      reason: `waiting for the ${a.pause_window ?? "rate-limit"} window, resets ${
        new Date(a.resume_at).toISOString().slice(11, 16)
      }Z`,
    };
  }
  return block;
}

const WINDOW_NAMES: Record<string, string> = {
  "5h": "five_hour",
  "7d": "seven_day",
  "7d_opus": "seven_day_opus",
  "7d_sonnet": "seven_day_sonnet",
};

/**
 * What the newest `anthropic-ratelimit-unified-*` headers (as the proxy recorded them) say about
 * admission: a window that is `rejected`, or whose utilisation is at or above `admitBelow`, holds
 * new starts until its reset. A reading whose reset has passed says nothing any more.
 */
export function headerBlock(
  headers: Record<string, string> | null | undefined,
  now: number,
  quota: Pick<QuotaSettings, "admitBelow" | "resumeSkewMs">,
): AdmissionBlock | null {
  if (!headers) return null;
  let block: AdmissionBlock | null = null;
  const consider = (window: string | null, resetSec: string | undefined, why: string) => {
    const reset = Number(resetSec ?? "");
    if (!Number.isFinite(reset) || reset <= 0) return;
    const until = Math.round(reset * 1000) + quota.resumeSkewMs;
    if (until <= now || (block && block.until >= until)) return;
    block = {
      window,
      until,
      reason: `waiting for the ${window ?? "rate-limit"} window (${why}), resets ${
        new Date(reset * 1000).toISOString().slice(11, 16)
      }Z`,
    };
  };
  const prefix = "anthropic-ratelimit-unified-";
  const claim = headers[`${prefix}representative-claim`] ?? null;
  if (headers[`${prefix}status`] === "rejected") {
    consider(claim, headers[`${prefix}reset`], "rejected");
  }
  for (const [name, value] of Object.entries(headers)) {
    const m = /^anthropic-ratelimit-unified-(.+)-utilization$/.exec(name);
    if (!m) continue;
    const used = Number(value);
    const short = m[1]!;
    const window = WINDOW_NAMES[short] ?? short;
    if (headers[`${prefix}${short}-status`] === "rejected") {
      consider(window, headers[`${prefix}${short}-reset`], "rejected");
    } else if (Number.isFinite(used) && used >= quota.admitBelow) {
      consider(
        window,
        headers[`${prefix}${short}-reset`],
        `${Math.round(used * 100)}% used, starts wait above ${Math.round(quota.admitBelow * 100)}%`,
      );
    }
  }
  return block;
}

/** A daily cap on the cost of agents in a working directory, and today's cost there. */
export interface CwdBudget {
  dir: string;
  capUsd: number;
  usedUsd: number;
}

/** The configured cwd caps that cover `cwd` (the directory itself or an ancestor). */
export function cwdBudgetDirs(caps: Readonly<Record<string, number>>, cwd: string): string[] {
  return Object.keys(caps).filter((dir) =>
    cwd === dir || cwd.startsWith(dir.endsWith("/") ? dir : `${dir}/`)
  );
}

/** The budget an agent has reached (for its pause message), or null while within budget. */
export function budgetReached(
  agent: Pick<Agent, "max_cost_usd" | "max_turns" | "total_cost_usd" | "num_turns">,
  daily: { usedUsd: number; capUsd: number | null } | null = null,
  cwds: readonly CwdBudget[] = [],
): string | null {
  if (agent.max_cost_usd !== null && agent.total_cost_usd >= agent.max_cost_usd) {
    return `its cost $${
      agent.total_cost_usd.toFixed(4)
    } reached the budget of $${agent.max_cost_usd}`;
  }
  if (agent.max_turns !== null && agent.num_turns >= agent.max_turns) {
    return `its ${agent.num_turns} turns reached the budget of ${agent.max_turns}`;
  }
  if (daily && daily.capUsd !== null && daily.usedUsd >= daily.capUsd) {
    return `today's cost $${daily.usedUsd.toFixed(4)} reached the daily budget of $${daily.capUsd}`;
  }
  for (const c of cwds) {
    if (c.usedUsd >= c.capUsd) {
      return `today's cost $${
        c.usedUsd.toFixed(4)
      } in ${c.dir} reached its daily budget of $${c.capUsd}`;
    }
  }
  return null;
}
