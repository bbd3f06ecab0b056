/**
 * Figures shown the same way on every surface (the admin, the widget, the CLI).
 * @module
 */
import type { DiffFile } from "./gen/types.gen.ts";

/**
 * A cost in US dollars: `$0`, `<$0.0001`, `$0.0042`, `$1.25`, `$120`. Small costs keep four
 * decimals, so a cheap agent never reads as `$0.00` on one surface and `$0.0044` on another.
 *
 * @example
 * ```ts
 * formatCost(0.0044); // "$0.0044"
 * formatCost(1.254); // "$1.25"
 * ```
 */
export function formatCost(usd: number): string {
  if (!Number.isFinite(usd) || usd <= 0) return "$0";
  if (usd < 0.0001) return "<$0.0001";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd)}`;
}

/**
 * A duration: `42s`, `3m 05s`, `2h 04m`, `3d 2h`.
 *
 * @example
 * ```ts
 * formatDuration(65_000); // "1m 05s"
 * ```
 */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * Time an agent's processes spent running turns (status `running`): the stored sum of finished
 * stretches plus the current one. Queued, in review, paused and idle time between follow-ups do
 * not count, so it is not wall time since creation.
 *
 * @example
 * ```ts
 * activeMs({ active_ms: 5000, active_since: null }, Date.now()); // 5000: not running now
 * activeMs({ active_ms: 5000, active_since: 1000 }, 3000); // 7000: running for 2 s more
 * ```
 */
export function activeMs(
  agent: { active_ms: number; active_since: number | null },
  now: number,
): number {
  const current = agent.active_since === null ? 0 : Math.max(0, now - agent.active_since);
  return agent.active_ms + current;
}

/** A changed file's status as one letter, as `git diff --name-status` prints it. */
export const DIFF_STATUS_LETTER: Readonly<Record<DiffFile["status"], string>> = {
  added: "A",
  modified: "M",
  deleted: "D",
  renamed: "R",
  copied: "C",
  type_changed: "T",
};
