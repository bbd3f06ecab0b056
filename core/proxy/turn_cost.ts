/**
 * The proxy's live cost of each agent's current turn: what the responses it forwarded since the
 * agent's last CLI result cost, priced by the table. The CLI's own figure (`total_cost_usd`)
 * only moves when a turn ends, so without this a single long turn could run far past the cap.
 * In memory: a daemon restart starts every turn's tally at zero.
 * @module
 */
import { costOfTokens, DEFAULT_PRICES, type PriceTable, type TokenCounts } from "../config/mod.ts";
import type { ProxyTokenRecord } from "../store/mod.ts";

type Figures = Pick<ProxyTokenRecord, "agent_id" | "total_cost_usd" | "num_turns">;

/** The turn a request belongs to: the CLI's figures change with each result line. */
function turnOf(record: Figures): string {
  return `${record.num_turns}:${record.total_cost_usd}`;
}

export class TurnCosts {
  #prices: PriceTable;
  #turns = new Map<string, { turn: string; usd: number }>();

  constructor(prices: PriceTable = DEFAULT_PRICES) {
    this.#prices = prices;
  }

  /** The live cost of the agent's current turn (USD); a new turn starts at zero. */
  current(record: Figures): number {
    const entry = this.#turns.get(record.agent_id);
    if (!entry) return 0;
    if (entry.turn === turnOf(record)) return entry.usd;
    this.#turns.delete(record.agent_id);
    return 0;
  }

  /**
   * Why the agent's request is held back for its cost (CLI total + this turn's live cost at or
   * past `max_cost_usd`), or null.
   */
  held(record: Figures & Pick<ProxyTokenRecord, "max_cost_usd">): string | null {
    if (record.max_cost_usd === null) return null;
    const live = this.current(record);
    if (live <= 0 || record.total_cost_usd + live < record.max_cost_usd) return null;
    return `agent reached its cost budget ($${record.total_cost_usd.toFixed(4)} reported + $${
      live.toFixed(4)
    } this turn on the wire, budget $${record.max_cost_usd})`;
  }

  /**
   * A response to a request made in the turn `record` describes ended. A response that ends after
   * the CLI reported that turn is in its figure already and is not counted again.
   */
  add(record: Figures, model: string | null | undefined, tokens: TokenCounts): void {
    const usd = costOfTokens(this.#prices, model ?? null, tokens);
    if (!(usd > 0)) return;
    const turn = turnOf(record);
    const entry = this.#turns.get(record.agent_id);
    if (!entry || entry.turn !== turn) {
      // An entry of an older turn is stale; one of a newer turn is not this response's.
      if (entry && entry.turn !== turn && this.#newer(entry.turn, turn)) return;
      this.#turns.set(record.agent_id, { turn, usd });
      return;
    }
    entry.usd += usd;
  }

  #newer(a: string, b: string): boolean {
    return Number(a.split(":")[0]) > Number(b.split(":")[0]);
  }
}
