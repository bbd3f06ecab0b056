/** Quota governor and budget settings (issue 15), read from the environment. Pure: no I/O. */
import type { Env } from "./paths.ts";

export interface QuotaSettings {
  /** A rate-limit pause resumes this long after the window's reset (the reset is not exact). */
  resumeSkewMs: number;
  /** Plus up to this much, per agent, so a paused fleet does not resume in one stampede. */
  resumeJitterMs: number;
  /** A rejected window without a reset time pauses this long. */
  fallbackPauseMs: number;
  /** The prompt a paused agent's session continues with (`--resume`). */
  continuePrompt: string;
  /** New starts wait while a window's utilisation is at or above this (0..1]. */
  admitBelow: number;
  /** Cost over the current UTC day above which every agent pauses (`budget`); null: none. */
  dailyBudgetUsd: number | null;
  /**
   * Daily caps per working directory (absolute path → USD): the cost over the current UTC day of
   * agents in that directory or below it; reaching one pauses them (`budget`).
   */
  cwdDailyBudgetsUsd: Readonly<Record<string, number>>;
}

const CWD_BUDGETS = "HERO_ORCHESTRATOR_CWD_DAILY_BUDGETS_USD";

function cwdBudgets(raw: string | undefined): Record<string, number> {
  if (raw === undefined || raw.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new RangeError(`Cannot read ${CWD_BUDGETS}: expected JSON like {"/work/repo": 5}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new RangeError(`Cannot read ${CWD_BUDGETS}: expected an object {"/abs/dir": USD, …}`);
  }
  const out: Record<string, number> = {};
  for (const [dir, usd] of Object.entries(parsed)) {
    if (!dir.startsWith("/") || typeof usd !== "number" || !(usd > 0) || usd > 1_000_000) {
      throw new RangeError(
        `Cannot read ${CWD_BUDGETS}: "${dir}" needs an absolute path and a number in (0, 1000000]`,
      );
    }
    out[dir.length > 1 ? dir.replace(/\/+$/, "") : dir] = usd;
  }
  return out;
}

export const DEFAULT_CONTINUE_PROMPT =
  "The API usage limit paused you and has reset now. Continue exactly where you left off.";

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot read ${name}: expected a number between ${min} and ${max}, got "${raw}"`,
    );
  }
  return value;
}

export function resolveQuotaSettings(env: Env): QuotaSettings {
  const daily = env.HERO_ORCHESTRATOR_DAILY_BUDGET_USD;
  return {
    resumeSkewMs: Math.round(
      num(env, "HERO_ORCHESTRATOR_QUOTA_RESUME_SKEW_MS", 60_000, 0, 24 * 3600_000),
    ),
    resumeJitterMs: Math.round(
      num(env, "HERO_ORCHESTRATOR_QUOTA_RESUME_JITTER_MS", 30_000, 0, 3600_000),
    ),
    fallbackPauseMs: Math.round(
      num(env, "HERO_ORCHESTRATOR_QUOTA_FALLBACK_PAUSE_MS", 15 * 60_000, 1_000, 7 * 24 * 3600_000),
    ),
    continuePrompt: env.HERO_ORCHESTRATOR_QUOTA_CONTINUE_PROMPT || DEFAULT_CONTINUE_PROMPT,
    admitBelow: num(env, "HERO_ORCHESTRATOR_QUOTA_ADMIT_BELOW", 0.95, 0.01, 1),
    dailyBudgetUsd: daily === undefined || daily === ""
      ? null
      : num(env, "HERO_ORCHESTRATOR_DAILY_BUDGET_USD", 0, 0, 1_000_000),
    cwdDailyBudgetsUsd: cwdBudgets(env[CWD_BUDGETS]),
  };
}
