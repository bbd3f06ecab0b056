/**
 * Why the proxy holds an agent's request back (paused, over budget) and which unified window a
 * rejecting 429 names. Held requests are answered here and never reach the upstream.
 * @module
 */
import type { ProxyTokenRecord } from "../store/mod.ts";

/** Why an agent's request is held back (never forwarded), or null. */
export function heldReason(record: ProxyTokenRecord): string | null {
  if (record.agent_status === "paused" || record.pause_reason !== null) {
    return `agent is paused (${record.pause_reason ?? "paused"})`;
  }
  if (record.max_cost_usd !== null && record.total_cost_usd >= record.max_cost_usd) {
    return "agent reached its cost budget";
  }
  if (record.max_turns !== null && record.num_turns >= record.max_turns) {
    return "agent reached its turn budget";
  }
  return null;
}

/** The unified window the headers name as the binding one (five_hour, seven_day, …). */
export function rejectedWindow(
  headers: Headers,
): { resetAt: number | null; window: string | null } {
  const reset = Number(headers.get("anthropic-ratelimit-unified-reset") ?? "");
  const claim = headers.get("anthropic-ratelimit-unified-representative-claim");
  return {
    resetAt: Number.isFinite(reset) && reset > 0 ? Math.round(reset * 1000) : null,
    window: claim && /^[a-z0-9_]{1,32}$/.test(claim) ? claim : null,
  };
}
