/**
 * The price table that turns tokens into dollars (USD per million tokens, per model family), for
 * the proxy's live cost of a turn. Pure: no I/O.
 * @module
 */
import type { Env } from "./paths.ts";

/** USD per million tokens of one model family. */
export interface ModelPrice {
  input: number;
  output: number;
  cache_read: number;
  /** Cache writes (the 5-minute cache). */
  cache_write: number;
}

/** Family key (a substring of the model id, the longest match wins) → price. */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** Anthropic's list prices of the current Claude families; `default` prices unknown models. */
export const DEFAULT_PRICES: PriceTable = Object.freeze({
  opus: { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 },
  // The older Opus models cost three times as much.
  "opus-4-1": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
  "opus-4-2025": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
  "3-opus": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
  sonnet: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  haiku: { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25 },
  // An unknown model is priced like the dearest family: a cap should rather hold early than late.
  default: { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
});

const PRICES = "HERO_ORCHESTRATOR_PRICES";
const FIELDS = ["input", "output", "cache_read", "cache_write"] as const;

/**
 * The price table: {@linkcode DEFAULT_PRICES} with `HERO_ORCHESTRATOR_PRICES` (JSON
 * `{"sonnet": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75}, …}`) on top;
 * a family given there replaces the default one whole.
 */
export function resolvePrices(env: Env): PriceTable {
  const raw = env[PRICES];
  if (raw === undefined || raw.trim() === "") return DEFAULT_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new RangeError(`Cannot read ${PRICES}: expected JSON like {"sonnet": {"input": 3, …}}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new RangeError(`Cannot read ${PRICES}: expected an object {"family": {…}, …}`);
  }
  const out: Record<string, ModelPrice> = { ...DEFAULT_PRICES };
  for (const [family, price] of Object.entries(parsed)) {
    const p = price as Record<string, unknown> | null;
    const ok = /^[a-z0-9._-]{1,64}$/.test(family) && p !== null && typeof p === "object" &&
      FIELDS.every((f) => typeof p[f] === "number" && p[f] >= 0 && p[f] <= 10_000);
    if (!ok) {
      throw new RangeError(
        `Cannot read ${PRICES}: "${family}" needs a lower-case family name and numbers in [0, 10000] for ${
          FIELDS.join(", ")
        }`,
      );
    }
    out[family] = Object.fromEntries(FIELDS.map((f) => [f, p![f]])) as unknown as ModelPrice;
  }
  return Object.freeze(out);
}

/** The price of `model`: the longest family key it contains, else `default`. */
export function priceOf(prices: PriceTable, model: string | null): ModelPrice {
  const id = (model ?? "").toLowerCase();
  let best: string | null = null;
  for (const family of Object.keys(prices)) {
    if (family === "default" || !id.includes(family)) continue;
    if (best === null || family.length > best.length) best = family;
  }
  return prices[best ?? "default"] ?? DEFAULT_PRICES.default!;
}

/** Token counts of one response. */
export interface TokenCounts {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
}

/** What `tokens` of `model` cost in USD. */
export function costOfTokens(prices: PriceTable, model: string | null, t: TokenCounts): number {
  const p = priceOf(prices, model);
  return (t.input_tokens * p.input + t.output_tokens * p.output +
    t.cache_read_tokens * p.cache_read + t.cache_creation_tokens * p.cache_write) / 1_000_000;
}
