/**
 * `QuotaGovernor`: pauses and resumes agents (rate limit, budget, by hand), holds the queue while
 * a window is rejected or nearly used up, and owns the one timer that continues paused agents
 * after their reset. The rows are the truth (reason, window, `resume_at`), so a restarted daemon
 * re-arms from them; `paused → queued` happens once per pause because the transition table
 * refuses a second one. The rules themselves (jitter, admission, budgets) are in `quota.ts`.
 * @module
 */
import { type Agent, BusyError, InvalidStateError } from "../models/mod.ts";
import type { EngineSettings } from "../config/mod.ts";
import { AgentNotFoundError, type Store } from "../store/mod.ts";
import type { AgentQueue } from "./queue.ts";
import type { AgentRun } from "./run.ts";
import { checkBudget } from "./create_input.ts";
import {
  type AdmissionBlock,
  admissionBlock,
  budgetReached,
  cwdBudgetDirs,
  headerBlock,
  resumeDueAt,
} from "./quota.ts";
import {
  type PauseFields,
  type PauseRequest,
  type QuotaClock,
  type SupervisorLog,
  SYSTEM_CLOCK,
} from "./types.ts";
import type { MessageWriter, StorageStatus } from "../store/mod.ts";

/** What the governor needs of the supervisor. */
export interface QuotaHost {
  store: Store;
  settings: EngineSettings;
  /** Default: the system clock. */
  clock?: QuotaClock | undefined;
  log: SupervisorLog;
  /** Its monitor says whether storage takes writes (a storage pause waits for that). */
  writer: MessageWriter;
  runs: ReadonlyMap<string, AgentRun>;
  queue: AgentQueue;
  /** Starts what fits in the caps (asks {@linkcode QuotaGovernor.admits} first). */
  pump(): void;
  shuttingDown(): boolean;
}

/** The figures a rate-limit rejection carries: the reset (epoch ms) and the window, if known. */
export interface RateLimitInfo {
  resetAt: number | null;
  window: string | null;
}

/** Budget fields of a request: null clears one, undefined leaves it. */
export interface BudgetPatch {
  max_cost_usd?: number | null;
  max_turns?: number | null;
}

/** Pauses, resumes and admission of the fleet against the quota and the budgets. */
export class QuotaGovernor {
  #host: () => QuotaHost;
  #hostCache: QuotaHost | null = null;
  #timer: unknown = null;
  #timerAt: number | null = null;
  #admission: AdmissionBlock | null = null;
  #liveCost: (agent: Agent) => number = () => 0;

  /** `host` is asked once, on first use (the supervisor is complete by then). */
  constructor(host: () => QuotaHost) {
    this.#host = host;
  }

  get #h(): QuotaHost {
    return this.#hostCache ??= this.#host();
  }

  get #clock(): QuotaClock {
    return this.#h.clock ?? SYSTEM_CLOCK;
  }

  /**
   * The cost of an agent's current turn that its row does not hold yet (the proxy's live tally,
   * USD): budgets count it, so an agent stopped mid-turn past its cap does not continue until the
   * cap covers it too.
   */
  setLiveCost(liveCost: (agent: Agent) => number): void {
    this.#liveCost = liveCost;
  }

  /** Why queued agents wait although slots are free (a rejected or nearly used window), or null. */
  get admission(): AdmissionBlock | null {
    return this.#storageBlock(this.#clock.now()) ?? this.#admission;
  }

  /**
   * Pauses an agent by hand: a queued one leaves the queue, a running one is stopped cleanly with
   * its session kept. Resolves with the `paused` row.
   */
  async pause(id: string): Promise<Agent> {
    const agent = this.#mustGet(id);
    const run = this.#h.runs.get(id);
    const request: PauseRequest = { reason: "manual", message: "Paused by request" };
    if (agent.status === "queued" && !run) {
      this.#h.queue.remove(id);
      return this.#h.store.transition(id, "paused", this.#pausePatch(request));
    }
    if ((agent.status !== "running" && agent.status !== "queued") || !run) {
      throw new InvalidStateError(
        `Cannot pause agent "${id}": it is ${agent.status} (needs queued or running)`,
      );
    }
    // A run still spawning stops as soon as its row says running.
    this.pauseRun(run, request);
    await run.done;
    return this.#mustGet(id);
  }

  /**
   * Pauses a run: the pause is stored on the (still running) row at once, so the proxy refuses
   * the agent's requests from then on, then the process is stopped; its final row is `paused`
   * with the session kept. Does nothing when another stop came first.
   */
  pauseRun(run: AgentRun, request: PauseRequest): void {
    if (run.stopReason) return;
    const pause = this.#pauseFields(request);
    // The stop carries the pause to the final row too, which is retried until storage takes it;
    // while storage fails, an early write would only wait out the busy timeout.
    if (!this.#h.writer.monitor.failing) {
      try {
        this.#h.store.updateAgent(run.agentId, pause);
      } catch (err) {
        this.#h.log("warn", "Cannot store the pause yet", {
          agent: run.agentId,
          error: String(err),
        });
      }
    }
    run.requestStop({ code: "paused", message: request.message, status: "paused", pause });
  }

  /**
   * Pauses a running agent whose window is used up: the CLI reported a rejected
   * `rate_limit_event`, or the proxy saw a 429 with unified status `rejected`. Without a reset
   * time the pause lasts the configured fallback. No-op for an agent without a live run.
   */
  pauseForRateLimit(id: string, info: RateLimitInfo): void {
    const run = this.#h.runs.get(id);
    if (!run) return;
    const resumeAt = info.resetAt ?? this.#clock.now() + this.#h.settings.quota.fallbackPauseMs;
    this.pauseRun(run, {
      reason: "rate_limit",
      window: info.window,
      resumeAt,
      message: `The API usage limit was reached${
        info.window ? ` (${info.window})` : ""
      }; paused until ${new Date(resumeAt).toISOString()}`,
    });
  }

  /** Pauses a running agent that reached its budget (the proxy held its request back). */
  pauseForBudget(id: string, reason: string): void {
    const run = this.#h.runs.get(id);
    if (run) this.pauseRun(run, { reason: "budget", message: `Paused: ${reason}` });
  }

  /**
   * Continues a paused agent now (through the queue and its caps); the session is kept. With
   * `overrideBudget`, the agent's own budgets that it reached are cleared first (a daily or cwd
   * cap still holds it).
   */
  resume(id: string, options: { overrideBudget?: boolean } = {}): Agent {
    if (this.#h.shuttingDown()) throw new BusyError("Cannot resume: the daemon is shutting down");
    let agent = this.#mustGet(id);
    if (agent.status !== "paused" || this.#h.runs.has(id)) {
      throw new InvalidStateError(`Cannot resume agent "${id}": it is ${agent.status}, not paused`);
    }
    // The override lifts the agent's own budgets it reached; they are cleared only if it resumes.
    const lifted: BudgetPatch = {};
    if (options.overrideBudget && agent.pause_reason === "budget") {
      const cost = agent.total_cost_usd + this.#liveCost(agent);
      if (agent.max_cost_usd !== null && cost >= agent.max_cost_usd) {
        lifted.max_cost_usd = null;
      }
      if (agent.max_turns !== null && agent.num_turns >= agent.max_turns) lifted.max_turns = null;
      agent = { ...agent, ...lifted };
    }
    const reached = agent.pause_reason === "budget" ? this.#budgetReached(agent) : null;
    if (reached) {
      throw new InvalidStateError(
        `Cannot resume agent "${id}": ${reached}; raise the budget first (agent.set_budget)`,
      );
    }
    if (Object.keys(lifted).length > 0) agent = this.#h.store.updateAgent(id, lifted);
    const queued = this.#resumeRow(agent);
    this.tick();
    return this.#h.store.getAgent(queued.id) ?? queued;
  }

  /**
   * Sets an agent's budget (null clears one, a missing field keeps it). An agent paused for its
   * budget that is now within it continues in place.
   */
  setBudget(id: string, budget: BudgetPatch): Agent {
    checkBudget(budget);
    this.#mustGet(id);
    const patch: BudgetPatch = {};
    if (budget.max_cost_usd !== undefined) patch.max_cost_usd = budget.max_cost_usd;
    if (budget.max_turns !== undefined) patch.max_turns = budget.max_turns;
    const agent = this.#h.store.updateAgent(id, patch);
    if (
      agent.status === "paused" && agent.pause_reason === "budget" && !this.#h.runs.has(id) &&
      !this.#h.shuttingDown() && this.#budgetReached(agent) === null
    ) {
      this.#resumeRow(agent);
      this.tick();
    }
    return this.#mustGet(id);
  }

  /**
   * Whether a queued agent may start now. One past its budget (or the daily one) does not: it is
   * paused for a person instead, so the next turn never starts past a budget.
   */
  mayStart(agent: Agent): boolean {
    const reached = agent.kind === "shadow" ? null : this.#budgetReached(agent);
    if (!reached) return true;
    this.#h.store.transition(
      agent.id,
      "paused",
      this.#pausePatch({ reason: "budget", message: `Paused: ${reached}` }),
    );
    return false;
  }

  /**
   * Whether the queue may start work now: not while a window is rejected (an agent paused for it
   * waits for its reset) or the newest headers say a window is at or above the admission
   * threshold; shadows neither. Arms the timer for the next thing due.
   */
  admits(): boolean {
    try {
      const paused = this.#h.store.listAgentsByStatus(["paused"]);
      const now = this.#clock.now();
      const quota = this.#h.settings.quota;
      const fromPauses = admissionBlock(paused, now, quota);
      const fromHeaders = headerBlock(this.#h.store.rateLimitSnapshots(1)[0]?.headers, now, quota);
      this.#admission = fromPauses && fromHeaders
        ? (fromPauses.until >= fromHeaders.until ? fromPauses : fromHeaders)
        : fromPauses ?? fromHeaders;
      let next: number | null = this.#admission?.until ?? null;
      for (const agent of paused) {
        const at = resumeDueAt(agent, quota, !this.#h.writer.monitor.failing);
        if (at !== null && (next === null || at < next)) next = at;
      }
      if (next !== null) this.#arm(next);
    } catch (err) {
      // A storage fault must not stop the queue: the last known admission stands.
      this.#h.log("error", "Cannot read the quota state", { err: `${err}` });
    }
    return this.admission === null;
  }

  /**
   * The governor's step: every paused agent whose reset (+ skew + its jitter) has passed goes back
   * to the queue (the earliest due first), then the queue is pumped.
   */
  tick(): void {
    // Before start() this only queues what is due; the pump starts nothing until then.
    if (this.#h.shuttingDown()) return;
    try {
      this.#resumeDue();
    } catch (err) {
      this.#h.log("error", "Cannot resume paused agents", { err: `${err}` });
    }
    this.#h.pump();
  }

  /**
   * The storage monitor's news. A fault that lasted past its bound pauses every run (reason
   * `storage`) instead of letting it fail: its process is stopped, what it printed is held and
   * stored later, and the `paused` row is written once storage takes writes again. Recovery
   * continues each storage pause once.
   */
  storageChanged(status: StorageStatus): void {
    // Called from inside a writer's attempt: act once that has returned.
    queueMicrotask(() => this.#onStorage(status));
  }

  #onStorage(status: StorageStatus): void {
    if (status.state === "ok") return this.tick();
    if (!status.over_bound) return;
    const since = new Date(status.since ?? this.#clock.now()).toISOString().slice(11, 19);
    const message = `Paused: storage has been failing since ${since}Z (${status.state}: ${
      status.last_error ?? "unknown error"
    }); continues when it takes writes again`;
    for (const run of this.#h.runs.values()) {
      this.pauseRun(run, { reason: "storage", message });
    }
  }

  /** Stops the timer (shutdown): the rows keep every pause for the next daemon. */
  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = null;
  }

  /** Storage failing past its bound: nothing starts (it would only wait on the disk). */
  #storageBlock(now: number): AdmissionBlock | null {
    const storage = this.#h.writer.monitor.status(now);
    if (storage.state === "ok" || !storage.over_bound) return null;
    return {
      window: null,
      // No reset to wait for: the next retry is the earliest it could end.
      until: now + this.#h.settings.store.retryMaxMs,
      reason: `waiting for storage to take writes again (${storage.state})`,
    };
  }

  #mustGet(id: string): Agent {
    const agent = this.#h.store.getAgent(id);
    if (!agent) throw new AgentNotFoundError(id);
    return agent;
  }

  /** The fields a pause stores on the row. */
  #pauseFields(request: PauseRequest): PauseFields {
    return {
      pause_reason: request.reason,
      pause_window: request.window ?? null,
      resume_at: request.resumeAt ?? null,
      paused_at: this.#clock.now(),
    };
  }

  /** The pause fields and the message of a row that becomes `paused` at once. */
  #pausePatch(request: PauseRequest) {
    return { ...this.#pauseFields(request), error_code: null, error_message: request.message };
  }

  /** The budget `agent` has reached, or null (shadows have none). */
  budgetReached(agent: Agent): string | null {
    return agent.kind === "shadow" ? null : this.#budgetReached(agent);
  }

  #budgetReached(agent: Agent): string | null {
    const { dailyBudgetUsd: cap, cwdDailyBudgetsUsd: caps } = this.#h.settings.quota;
    const now = this.#clock.now();
    const dayStart = now - (now % 86_400_000);
    const daily = cap === null
      ? null
      : { usedUsd: this.#h.store.usageSums(dayStart, now + 1).cost_usd, capUsd: cap };
    const cwds = cwdBudgetDirs(caps, agent.cwd).map((dir) => ({
      dir,
      capUsd: caps[dir]!,
      usedUsd: this.#h.store.usageCostUnder(dir, dayStart, now + 1),
    }));
    const live = this.#liveCost(agent);
    return budgetReached({ ...agent, total_cost_usd: agent.total_cost_usd + live }, daily, cwds);
  }

  /**
   * paused → queued, exactly once (the transition refuses a second time): the session continues
   * with the continuation prompt, unless a follow-up's prompt already waits on the row or no
   * session was ever opened (then the turn starts over).
   */
  #resumeRow(agent: Agent): Agent {
    const store = this.#h.store;
    const record = store.getProcessRecord(agent.id);
    const continueSession = agent.session_id !== null && record?.pending_prompt == null;
    const queued = store.transition(agent.id, "queued", {
      pause_reason: null,
      pause_window: null,
      resume_at: null,
      paused_at: null,
      error_message: null,
      finished_at: null,
      ...(continueSession
        ? {
          pending_prompt: this.#h.settings.quota.continuePrompt,
          pending_permission_mode: record?.pending_permission_mode ?? "bypassPermissions",
        }
        : {}),
    });
    this.#h.queue.push(queued);
    return queued;
  }

  /** Queues every paused agent whose reset (+ skew + its jitter) has passed, earliest due first. */
  #resumeDue(): void {
    const now = this.#clock.now();
    const storageOk = !this.#h.writer.monitor.failing;
    const due = this.#h.store.listAgentsByStatus(["paused"])
      .map((agent) => ({ agent, at: resumeDueAt(agent, this.#h.settings.quota, storageOk) }))
      .filter((d): d is { agent: Agent; at: number } => d.at !== null && d.at <= now)
      .sort((a, b) => a.at - b.at || a.agent.created_at - b.agent.created_at);
    for (const { agent } of due) {
      if (this.#h.runs.has(agent.id)) continue;
      try {
        this.#resumeRow(agent);
      } catch (err) {
        this.#h.log("error", "Cannot resume a paused agent", {
          agent: agent.id,
          error: String(err),
        });
      }
    }
  }

  /** Sets the one timer to `at` unless it is set for that time or earlier. */
  #arm(at: number): void {
    if (this.#timerAt !== null && this.#timerAt <= at) return;
    this.stop();
    this.#timerAt = at;
    // setTimeout takes at most 2^31-1 ms; a longer pause re-arms when that fires.
    const delay = Math.min(Math.max(0, at - this.#clock.now()), 2 ** 31 - 1);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#timerAt = null;
      this.tick();
    }, delay);
  }
}
