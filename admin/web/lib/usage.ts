/**
 * Pure helpers of the usage views: rate-limit headroom from a `usage.get` report (the proxy's
 * newest snapshot, else the OAuth usage poll), reset times, the burn-rate sparkline's geometry,
 * byte counts. No DOM.
 * @module
 */
import type { UsageReport } from "@hero/sdk";

/** The two windows the header shows. */
export type WindowKey = "5h" | "7d";

/** Names of a window in the proxy's headers and in the OAuth usage answer. */
const NAMES: Record<WindowKey, { proxy: string; oauth: string; label: string }> = {
  "5h": { proxy: "5h", oauth: "five_hour", label: "5-hour" },
  "7d": { proxy: "7d", oauth: "seven_day", label: "weekly" },
};

/** One window's headroom, as shown in the header. */
export interface Headroom {
  key: WindowKey;
  /** "5-hour" / "weekly". */
  label: string;
  /** Fraction left, 0..1; null when no reading has a utilisation. */
  left: number | null;
  /** Fraction used, 0..1 (as read). */
  used: number | null;
  resetsAt: number | null;
  /** The reading's window status (`allowed`, `allowed_warning`, `rejected`), when known. */
  status: string | null;
  /** Where the reading comes from. */
  source: "proxy" | "oauth" | null;
  /** When the reading was taken. */
  readAt: number | null;
  /** The window reset after the reading: its utilisation is out of date. */
  stale: boolean;
}

function clamp01(n: number): number {
  return Math.min(1, Math.max(0, n));
}

/**
 * The headroom of `key`: from whichever of the proxy's newest rate-limit snapshot and the last
 * good OAuth usage poll is newer and has a utilisation for it.
 */
export function headroomOf(report: UsageReport, key: WindowKey, now: number): Headroom {
  const names = NAMES[key];
  const candidates: Array<
    {
      source: "proxy" | "oauth";
      ts: number;
      used: number | null;
      resetsAt: number | null;
      status: string | null;
    }
  > = [];
  const rl = report.rate_limit;
  const fromProxy = rl?.windows.find((w) => w.name === names.proxy);
  if (rl && fromProxy) {
    candidates.push({
      source: "proxy",
      ts: rl.ts,
      used: fromProxy.utilization,
      resetsAt: fromProxy.resets_at,
      status: fromProxy.status,
    });
  }
  const polled = report.oauth_poll.last_ok;
  const fromPoll = polled?.windows.find((w) => w.name === names.oauth);
  if (polled && fromPoll) {
    candidates.push({
      source: "oauth",
      ts: polled.ts,
      used: fromPoll.utilization,
      resetsAt: fromPoll.resets_at,
      status: fromPoll.status,
    });
  }
  const usable = candidates.filter((c) => c.used !== null && Number.isFinite(c.used));
  const best = (usable.length > 0 ? usable : candidates).sort((a, b) => b.ts - a.ts)[0];
  if (!best) {
    return {
      key,
      label: names.label,
      left: null,
      used: null,
      resetsAt: null,
      status: null,
      source: null,
      readAt: null,
      stale: false,
    };
  }
  const used = best.used !== null && Number.isFinite(best.used) ? clamp01(best.used) : null;
  return {
    key,
    label: names.label,
    left: used === null ? null : 1 - used,
    used,
    resetsAt: best.resetsAt,
    status: best.status,
    source: best.source,
    readAt: best.ts,
    stale: best.resetsAt !== null && best.resetsAt <= now,
  };
}

/** `ok` (≥ 50 % left), `warn` (≥ 20 %), `low` (less, or rejected), `none` (no reading). */
export function headroomLevel(h: Headroom): "ok" | "warn" | "low" | "none" {
  if (h.status === "rejected") return "low";
  if (h.left === null || h.stale) return "none";
  if (h.left >= 0.5) return "ok";
  if (h.left >= 0.2) return "warn";
  return "low";
}

/** `58%` (floored, so 99.6 % used never shows as 1 % left… but as 0 %). */
export function formatPercent(fraction: number): string {
  return `${Math.floor(clamp01(fraction) * 100 + 1e-9)}%`;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/**
 * A reset time, short: `14:20` today, `Mon 09:00` within the week, else `2026-05-01 09:00`
 * (local time).
 */
export function formatReset(ts: number, now: number): string {
  const d = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, "0");
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const today = new Date(now);
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() &&
    d.getDate() === today.getDate();
  if (sameDay) return clock;
  if (Math.abs(ts - now) < 6.5 * 86_400_000) return `${WEEKDAYS[d.getDay()]} ${clock}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
}

/** `in 2h 05m`, `in 3d 4h`, `5m ago`. */
export function formatFromNow(ts: number, now: number): string {
  const ms = ts - now;
  const s = Math.floor(Math.abs(ms) / 1000);
  let text: string;
  if (s < 60) text = `${s}s`;
  else if (s < 3600) text = `${Math.floor(s / 60)}m`;
  else if (s < 86_400) {
    text = `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  } else text = `${Math.floor(s / 86_400)}d ${Math.floor(s / 3600) % 24}h`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** `512 B`, `12.3 KB`, `4.56 MB` (1000-based). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1000) return `${Math.max(0, Math.round(n || 0))} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0).replace(/\.?0+$/, "")} ${units[i]}`;
}

/** The sparkline's shapes in a `width`×`height` box (y grows downwards). */
export interface Sparkline {
  /** `points` of the polyline. */
  line: string;
  /** `d` of the filled area under the line. */
  area: string;
  /** The newest point. */
  last: { x: number; y: number };
  max: number;
}

/**
 * Geometry of a sparkline of `values` (oldest first): scaled to the largest value, with `pad`
 * pixels kept free at the top and bottom so the stroke is never clipped. All zero: a flat line
 * at the bottom.
 */
export function sparkline(values: readonly number[], width: number, height: number, pad = 2) {
  const clean = values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const max = Math.max(0, ...clean);
  const n = clean.length;
  const span = height - 2 * pad;
  const round = (v: number) => Math.round(v * 100) / 100;
  const pts = clean.map((v, i) => ({
    x: round(n <= 1 ? width : (i / (n - 1)) * width),
    y: round(height - pad - (max > 0 ? (v / max) * span : 0)),
  }));
  if (pts.length === 0) pts.push({ x: width, y: height - pad });
  const line = pts.map((p) => `${p.x},${p.y}`).join(" ");
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  const area = `M${first.x},${height} ` + pts.map((p) => `L${p.x},${p.y}`).join(" ") +
    ` L${last.x},${height} Z`;
  return { line, area, last, max } satisfies Sparkline;
}
