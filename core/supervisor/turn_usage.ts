/** A turn's usage in the ledger: what the CLI's cumulative totals grew by since the last turn. */
import type { Store } from "../store/mod.ts";
import type { UsageTotals } from "../claude/mod.ts";
import type { SupervisorLog } from "./types.ts";

/** Appends the turn's deltas (`now` − `base`) to the usage ledger; returns the new base. */
export function recordTurnUsage(
  store: Store,
  agentId: string,
  base: UsageTotals,
  now: UsageTotals,
  log: SupervisorLog,
): UsageTotals {
  try {
    store.recordTurnUsage(agentId, Date.now(), {
      input_tokens: Math.max(0, now.input_tokens - base.input_tokens),
      output_tokens: Math.max(0, now.output_tokens - base.output_tokens),
      cache_read_tokens: Math.max(0, now.cache_read_tokens - base.cache_read_tokens),
      cache_creation_tokens: Math.max(0, now.cache_creation_tokens - base.cache_creation_tokens),
      cost_usd: Math.max(0, now.total_cost_usd - base.total_cost_usd),
    });
  } catch (err) {
    // The turn's lines are stored; a ledger row that cannot be written must not end the run.
    log("error", "Cannot record turn usage", { agent: agentId, error: String(err) });
  }
  return now;
}
