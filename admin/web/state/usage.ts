/**
 * The header's usage reading: `usage.get {period: "today"}` (rate-limit headroom, today's cost,
 * the 24-hour series, OAuth poll and proxy state), refreshed every 30 s and soon after an agent's
 * cost or turn count moves on the page's event stream (throttled).
 * @module
 */
import { signal } from "@preact/signals";
import type { UsageReport } from "@hero/sdk";
import { onStreamEvents } from "./events.ts";
import { call, messageOf } from "./rpc.ts";

/** The newest report, once loaded. */
export const usageReport = signal<UsageReport | null>(null);
/** Why the last refresh failed (the last good report stays shown). */
export const usageError = signal<string | null>(null);

/** Regular refresh. */
export const USAGE_POLL_MS = 30_000;
/** At most one event-driven refresh per this interval. */
export const USAGE_EVENT_THROTTLE_MS = 3_000;

let started = false;
let inFlight: Promise<void> | null = null;
let again = false;
let lastRefresh = 0;
let soon: ReturnType<typeof setTimeout> | null = null;
/** cost and turns per agent as last seen on the stream. */
const seen = new Map<string, string>();

/** Loads the report now (a call already in flight is followed by one more). */
export function refreshUsage(): Promise<void> {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  lastRefresh = Date.now();
  inFlight = (async () => {
    try {
      usageReport.value = await call("usage.get", { period: "today" });
      usageError.value = null;
    } catch (err) {
      usageError.value = messageOf(err);
    } finally {
      inFlight = null;
      if (again) {
        again = false;
        void refreshUsage();
      }
    }
  })();
  return inFlight;
}

/** A refresh within the throttle interval. */
function refreshSoon(): void {
  if (soon) return;
  const wait = Math.max(0, lastRefresh + USAGE_EVENT_THROTTLE_MS - Date.now());
  soon = setTimeout(() => {
    soon = null;
    void refreshUsage();
  }, wait);
}

/** Starts loading and refreshing (idempotent). */
export function startUsage(): void {
  if (started) return;
  started = true;
  void refreshUsage();
  setInterval(() => {
    if (document.visibilityState !== "hidden") void refreshUsage();
  }, USAGE_POLL_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && Date.now() - lastRefresh > USAGE_POLL_MS) {
      void refreshUsage();
    }
  });
  onStreamEvents((events) => {
    let moved = false;
    for (const e of events) {
      if (e.event !== "agent") continue;
      const a = e.data;
      const key = `${a.total_cost_usd}/${a.turn_count}`;
      const before = seen.get(a.id);
      seen.set(a.id, key);
      // The first sighting of an agent is news only if it has already cost something.
      if (before === undefined ? a.total_cost_usd > 0 : before !== key) moved = true;
    }
    if (moved) refreshSoon();
  });
}
