/** Number, time and status formatting for the dashboard. Pure; no DOM. */
import { type AgentStatus, formatDuration } from "@hero/sdk";

/** `512`, `12.3k`, `4.56M`. */
export function formatTokens(n: number): string {
  if (!Number.isFinite(n)) return "0";
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1).replace(/\.?0+$/, "")}k`;
  return `${(n / 1_000_000).toFixed(2).replace(/\.?0+$/, "")}M`;
}

// One cost, duration and active-time format for the admin, the widget and the CLI.
export { activeMs, formatCost, formatDuration } from "@hero/sdk";

/** Local `HH:MM:SS`. */
export function formatClock(ts: number): string {
  const d = new Date(ts);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0"))
    .join(":");
}

/** Local date and time, e.g. `2026-05-01 14:03`. */
export function formatDateTime(ts: number): string {
  const d = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }`;
}

/** Human label of a status. */
export const STATUS_LABEL: Readonly<Record<AgentStatus, string>> = {
  queued: "Queued",
  running: "Running",
  paused: "Paused",
  awaiting_review: "Awaiting review",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** Why a paused agent waits, for people: the reason and, for a timed pause, the countdown. */
export function pauseText(
  agent: { pause_reason: string | null; pause_window: string | null; resume_at: number | null },
  now: number,
): string {
  const why = agent.pause_reason === "rate_limit"
    ? `Usage limit${agent.pause_window ? ` (${agent.pause_window.replace("_", "-")} window)` : ""}`
    : agent.pause_reason === "budget"
    ? "Budget reached"
    : agent.pause_reason === "manual"
    ? "Paused by hand"
    : agent.pause_reason === "storage"
    ? "Storage trouble"
    : "Paused";
  if (agent.resume_at === null) return `${why} · waits for you`;
  const left = agent.resume_at - now;
  return left > 0 ? `${why} · resumes in ${formatDuration(left)}` : `${why} · resuming shortly`;
}

/** Dashboard bucket of a status. */
export function bucketOf(status: AgentStatus): "running" | "awaiting_review" | "completed" {
  if (status === "queued" || status === "running" || status === "paused") return "running";
  if (status === "awaiting_review") return "awaiting_review";
  return "completed";
}
