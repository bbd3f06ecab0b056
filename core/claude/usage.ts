/**
 * Token and cost accounting for one agent across turns and claude processes.
 *
 * Three facts of the wire format (claude_protocol.md §1) make naive summing wrong:
 * - claude prints one `assistant` line per content block, and every line of one API message
 *   repeats that message's provisional `usage` (from `message_start`) under the same `message.id`;
 * - the `result` line closing a turn carries the turn's authoritative `usage`;
 * - `total_cost_usd` on `result` is cumulative for the process, and a follow-up runs a new process
 *   (`--resume`) whose cost starts again from 0.
 *
 * @module
 */

/** Running totals for an agent; the field names match the `Agent` model's columns. */
export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  total_cost_usd: number;
  /** API round trips, summed over turns. */
  num_turns: number;
  /** `result` lines seen. */
  turn_count: number;
}

interface Tokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

const ZERO_TOKENS: Readonly<Tokens> = Object.freeze({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheCreation: 0,
});

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : null;
}

/** Reads an Anthropic `usage` object; missing or malformed fields count as 0. */
function readTokens(usage: Record<string, unknown>): Tokens {
  return {
    input: count(usage.input_tokens),
    output: count(usage.output_tokens),
    cacheRead: count(usage.cache_read_input_tokens),
    cacheCreation: count(usage.cache_creation_input_tokens),
  };
}

function add(a: Tokens, b: Tokens): Tokens {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheCreation: a.cacheCreation + b.cacheCreation,
  };
}

function subtract(a: Tokens, b: Tokens): Tokens {
  return {
    input: a.input - b.input,
    output: a.output - b.output,
    cacheRead: a.cacheRead - b.cacheRead,
    cacheCreation: a.cacheCreation - b.cacheCreation,
  };
}

function sameTokens(a: Tokens, b: Tokens): boolean {
  return a.input === b.input && a.output === b.output && a.cacheRead === b.cacheRead &&
    a.cacheCreation === b.cacheCreation;
}

function sameTotals(a: UsageTotals, b: UsageTotals): boolean {
  return a.input_tokens === b.input_tokens && a.output_tokens === b.output_tokens &&
    a.cache_read_tokens === b.cache_read_tokens &&
    a.cache_creation_tokens === b.cache_creation_tokens &&
    a.total_cost_usd === b.total_cost_usd && a.num_turns === b.num_turns &&
    a.turn_count === b.turn_count;
}

/**
 * Tracks an agent's usage from the stream-json lines of its claude processes.
 *
 * While a turn runs, the totals are the committed totals plus, for every distinct `message.id`
 * seen in the turn, the latest `usage` of that message: live figures rise, but a message printed
 * as three content-block lines counts once. Subagent messages (non-null `parent_tool_use_id`)
 * count the same way. A `result` drops those provisional figures and commits its own `usage`,
 * adds its `num_turns`, counts one turn and sets the cost to the cost committed before this
 * process plus the process's latest cumulative `total_cost_usd`.
 *
 * @example
 * ```ts
 * const tracker = new UsageTracker({ total_cost_usd: 0.5, turn_count: 3 });
 * tracker.startProcess();
 * tracker.observe({ type: "result", usage: { input_tokens: 12, output_tokens: 6 }, num_turns: 1, total_cost_usd: 0.000042 });
 * tracker.totals().total_cost_usd; // 0.500042
 * ```
 */
/**
 * Message ids of the running turn whose usage is remembered individually. claude repeats a
 * message's usage on each of its content-block lines, consecutively (interleaved at most with a
 * few parallel subagents), so only recent ids can come back. Older ones stay in the running sum
 * but are forgotten: a long turn otherwise kept an entry per message for its whole life (measured
 * with 300 agents at 5 lines/s and a forced GC: the daemon's live heap grew ~130 B per line,
 * 26 → 49 MB in 2 minutes; bounded, it stays at 24 MB). Should a forgotten id come back anyway, it
 * is counted again until the turn's result line, which replaces the provisional figures.
 */
export const MAX_PROVISIONAL_IDS = 64;

export class UsageTracker {
  /** Tokens, turns and round trips of finished turns (and of earlier processes). */
  #committed: Tokens;
  #numTurns: number;
  #turnCount: number;
  /** Cost of all earlier processes. */
  #costBase: number;
  /** Latest cumulative `total_cost_usd` of the current process. */
  #processCost = 0;
  /** Latest provisional usage per API message id in the running turn. */
  #provisional = new Map<string, Tokens>();
  /**
   * Sum of `#provisional`, kept up to date on every change so `totals()` is O(1): a long turn
   * has thousands of message ids, and summing them on every line made ingest quadratic.
   */
  #provisionalSum: Tokens = ZERO_TOKENS;
  #anonymous = 0;

  /**
   * @param committed Totals already stored for the agent (e.g. from earlier processes). The
   * tracker starts as if a process had just started, so calling {@linkcode startProcess} before
   * the first process is optional.
   */
  constructor(committed: Partial<UsageTotals> = {}) {
    this.#committed = {
      input: count(committed.input_tokens),
      output: count(committed.output_tokens),
      cacheRead: count(committed.cache_read_tokens),
      cacheCreation: count(committed.cache_creation_tokens),
    };
    this.#numTurns = count(committed.num_turns);
    this.#turnCount = count(committed.turn_count);
    this.#costBase = count(committed.total_cost_usd);
  }

  /**
   * A new claude process begins: its cumulative cost starts at 0 on top of what is committed.
   *
   * Provisional usage of a turn the previous process never finished (it died before `result`)
   * is kept: those tokens were consumed, and the live totals must not go down.
   */
  startProcess(): void {
    this.#committed = add(this.#committed, this.#provisionalSum);
    this.#clearProvisional();
    this.#costBase += this.#processCost;
    this.#processCost = 0;
  }

  /**
   * Feeds one parsed line. Returns the new totals when this line changed them, else null (most
   * lines: `user`, `system`, a repeated `assistant` block of a message already counted).
   */
  observe(value: Record<string, unknown>): UsageTotals | null {
    const before = this.totals();
    if (value.type === "assistant") this.#observeAssistant(value);
    else if (value.type === "result") this.#observeResult(value);
    else return null;
    const after = this.totals();
    return sameTotals(before, after) ? null : after;
  }

  /** Message ids of the running turn remembered individually (at most MAX_PROVISIONAL_IDS). */
  get provisionalIds(): number {
    return this.#provisional.size;
  }

  /** Current totals: committed plus the running turn's provisional usage. */
  totals(): UsageTotals {
    const tokens = add(this.#committed, this.#provisionalSum);
    return {
      input_tokens: tokens.input,
      output_tokens: tokens.output,
      cache_read_tokens: tokens.cacheRead,
      cache_creation_tokens: tokens.cacheCreation,
      // Not rounded: within one process the figure must equal the result line's exactly.
      total_cost_usd: this.#costBase + this.#processCost,
      num_turns: this.#numTurns,
      turn_count: this.#turnCount,
    };
  }

  #observeAssistant(value: Record<string, unknown>): void {
    const message = record(value.message);
    const usage = record(message?.usage);
    if (message === null || usage === null) return;
    // Without a message id there is nothing to group by; the line's uuid at least keeps a
    // replayed line from counting twice. The result replaces these figures anyway.
    const id = typeof message.id === "string"
      ? `m:${message.id}`
      : typeof value.uuid === "string"
      ? `u:${value.uuid}`
      : `a:${this.#anonymous++}`;
    const tokens = readTokens(usage);
    const previous = this.#provisional.get(id);
    if (previous !== undefined && sameTokens(previous, tokens)) return;
    // Re-inserted at the end: the Map's order is recency, its first entry the one to forget.
    this.#provisional.delete(id);
    this.#provisional.set(id, tokens);
    if (this.#provisional.size > MAX_PROVISIONAL_IDS) {
      this.#provisional.delete(this.#provisional.keys().next().value!);
    }
    this.#provisionalSum = add(
      previous === undefined ? this.#provisionalSum : subtract(this.#provisionalSum, previous),
      tokens,
    );
  }

  #clearProvisional(): void {
    this.#provisional.clear();
    this.#provisionalSum = ZERO_TOKENS;
  }

  #observeResult(value: Record<string, unknown>): void {
    const usage = record(value.usage);
    // A result without usage: keep what was seen rather than dropping the turn's tokens.
    const turn: Tokens = usage !== null ? readTokens(usage) : this.#provisionalSum;
    this.#committed = add(this.#committed, turn);
    this.#clearProvisional();
    this.#numTurns += Number.isSafeInteger(value.num_turns) ? count(value.num_turns) : 0;
    this.#turnCount += 1;
    const cost = value.total_cost_usd;
    if (typeof cost === "number" && Number.isFinite(cost) && cost >= 0) {
      // Cumulative per process, so it never falls within one process. If it does, a new
      // process started without startProcess(): bank the old process's cost first.
      if (cost < this.#processCost) this.#costBase += this.#processCost;
      this.#processCost = cost;
    }
  }
}
