/**
 * `Supervisor`: the façade of the agent lifecycle. It validates and stores requests, keeps the
 * queue, and starts each queued agent as an {@linkcode AgentRun} within the caps; the rooms behind
 * it are `run.ts` (one process), `queue.ts`, `launch.ts`, `recovery.ts`, `shutdown.ts` and
 * `watchdog.ts`. Every store write publishes through the store's outbox after COMMIT.
 * @module
 */
import { type Agent, BusyError, fallbackTitle, InvalidStateError, newId } from "../models/mod.ts";
import type { EngineSettings } from "../config/mod.ts";
import { AgentNotFoundError, type Store } from "../store/mod.ts";
import { createProcessControl, type ProcessControl } from "./process_control.ts";
import { deleteAgent } from "./delete.ts";
import {
  checkBudget,
  checkCreateInput,
  checkFollowUpAgent,
  checkFollowUpPrompt,
  type CreateAgentInput,
} from "./create_input.ts";
import { createLauncher, type SupervisorProxy, usesProxy } from "./launch.ts";
import { AgentQueue, type QueueEntry, turnOf } from "./queue.ts";
import { adoptImported, forkAgent, type ForkContext } from "./fork.ts";
import { insertShadow, requeueFollowUp, requeueShadow } from "./requeue.ts";
import { recoverRuns, type RecoveryReport } from "./recovery.ts";
import { AgentRun } from "./run.ts";
import { FinishBatch, stopForShutdown } from "./shutdown.ts";
import {
  type AdmissionBlock,
  admissionBlock,
  budgetReached,
  headerBlock,
  resumeDueAt,
} from "./quota.ts";
import {
  callHook,
  type CreateShadowInput,
  type PauseRequest,
  type QuotaClock,
  stderrWarnings,
  type SupervisorHooks,
  type SupervisorLog,
  type SupervisorOptions,
  SYSTEM_CLOCK,
} from "./types.ts";
import { startWatchdog } from "./watchdog.ts";

export type { CreateAgentInput } from "./create_input.ts";
export type { SupervisorProxy } from "./launch.ts";
export type { RecoveryReport } from "./recovery.ts";
export type { AdmissionBlock } from "./quota.ts";
export { type QuotaClock, SYSTEM_CLOCK } from "./types.ts";
export { resumeJitterMs } from "./quota.ts";
export type {
  CreateShadowInput,
  SupervisorHooks,
  SupervisorLog,
  SupervisorOptions,
} from "./types.ts";

/**
 * Owns every claude process: starts queued agents within the concurrency caps, moves them
 * through their lifecycle, and stops whole process trees.
 */
export class Supervisor {
  #o: SupervisorOptions;
  #store: Store;
  #settings: EngineSettings;
  #control: ProcessControl;
  #log: SupervisorLog;
  #titleFor: (prompt: string) => string;
  #launch: ReturnType<typeof createLauncher>;
  #runs = new Map<string, AgentRun>();
  #queue = new AgentQueue();
  #hooks: SupervisorHooks = {};
  #accepting = false;
  #shuttingDown = false;
  #stopWatchdog: (() => void) | undefined;
  /** Terminal rows of runs ending during shutdown share transactions. */
  #finishes: FinishBatch;
  #clock: QuotaClock;
  /** The one timer of the quota governor: the next resume or the end of an admission block. */
  #quotaTimer: unknown = null;
  #quotaTimerAt: number | null = null;
  #admission: AdmissionBlock | null = null;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#store = options.store;
    this.#settings = options.settings;
    this.#control = options.control ?? createProcessControl();
    this.#titleFor = options.titleFor ?? fallbackTitle;
    this.#log = options.log ?? stderrWarnings;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    // The launcher takes the options it shares with the supervisor (store, proxy, sandbox, …).
    this.#launch = createLauncher({
      ...options,
      proxy: options.proxy ?? null,
      agentStateDir: options.agentStateDir ?? null,
    });
    this.#finishes = new FinishBatch({
      store: options.store,
      log: this.#log,
      live: () => this.#runs.size,
    });
  }

  /** Agents with a live (or starting) process. */
  get runningCount(): number {
    return this.#runs.size;
  }

  get queuedCount(): number {
    return this.#queue.size;
  }

  /** Why queued agents wait although slots are free (a rejected window), or null. */
  get admission(): AdmissionBlock | null {
    return this.#admission;
  }

  /** The proxy agents use, or null. */
  get proxy(): SupervisorProxy | null {
    return this.#o.proxy ?? null;
  }

  /** Installs the lifecycle hooks (replacing earlier ones). */
  setHooks(hooks: SupervisorHooks): void {
    this.#hooks = hooks;
  }

  /** Whether `agent` talks to the upstream through the proxy. */
  usesProxy(agent: Pick<Agent, "kind">): boolean {
    return usesProxy(this.proxy, agent);
  }

  /** Calls a hook; a throwing or rejecting hook is logged, never propagated. */
  #hook<K extends keyof SupervisorHooks>(
    name: K,
    ...args: Parameters<NonNullable<SupervisorHooks[K]>>
  ): Promise<void> | void {
    return callHook(this.#hooks, name, this.#log, args);
  }

  /**
   * Crash recovery, before anything else accepts work: every `running` agent becomes `failed`
   * (`daemon_restart`), every process carrying one of our agents' markers is terminated, and
   * `queued` agents are queued again in their original order. Never re-runs a started agent.
   */
  async recover(): Promise<RecoveryReport> {
    const { reconciled, swept } = await recoverRuns({
      store: this.#store,
      control: this.#control,
      graceMs: this.#settings.supervisor.cancelGraceMs,
      log: this.#log,
    });
    const requeued = this.#queue.rebuild(this.#store).length;
    return { reconciled, requeued, swept };
  }

  /** Starts taking work: queued agents start within the concurrency cap. */
  start(): void {
    this.#accepting = true;
    this.#stopWatchdog = startWatchdog(
      () => this.#runs.values(),
      this.#settings.supervisor,
      this.#log,
    );
    this.#quotaTick();
  }

  /** Validates and stores a new agent (`queued`), then starts it when a slot is free. */
  create(input: CreateAgentInput): Agent {
    if (this.#shuttingDown) throw new BusyError("Cannot create agent: the daemon is shutting down");
    const checked = checkCreateInput(input, {
      settings: this.#settings,
      protectedDirs: this.#o.protectedDirs ?? [],
      allowedRoots: this.#o.allowedRoots ?? null,
    });
    checkBudget(input);
    // Unnamed agents get their prompt's first words at once (a naming shadow may improve on it).
    const autoNamed = checked.name === null && checked.kind !== "shadow";
    const agent = this.#store.insertAgent({
      id: newId(),
      name: autoNamed ? this.#titleFor(input.prompt) : checked.name,
      prompt: input.prompt,
      cwd: checked.cwd,
      model: checked.model,
      effort: checked.effort,
      kind: checked.kind,
      parent_id: input.parent_id ?? null,
      home_mcp: checked.homeMcp,
      hero_context: checked.heroContext,
      max_cost_usd: input.max_cost_usd ?? null,
      max_turns: input.max_turns ?? null,
    });
    if (checked.kind !== "shadow") this.#hook("created", agent, { autoNamed });
    return this.#enqueue(agent, input.voice === true);
  }

  /**
   * Stores and queues a shadow of `parent`: a tool-less claude run in the parent's cwd, with its
   * own slots (never an agent's), through the proxy under the default scope.
   */
  createShadow(input: CreateShadowInput): Agent {
    if (this.#shuttingDown) {
      throw new BusyError("Cannot create shadow: the daemon is shutting down");
    }
    return this.#enqueue(insertShadow(this.#store, input));
  }

  /** Runs a failed shadow again from scratch (a new session, the same prompt). */
  retryShadow(id: string): Agent {
    if (this.#shuttingDown) throw new BusyError("Cannot retry shadow: the daemon is shutting down");
    return this.#enqueue(requeueShadow(this.#store, this.#mustGet(id), this.#runs.has(id)));
  }

  /**
   * Continues an agent's claude session (`--resume`) with a new prompt. Allowed from
   * awaiting_review and failed; a planner's follow-up with `execute` leaves plan mode. The prompt
   * and mode wait on the agent's row (the queue's one truth) until it starts.
   */
  async followUp(
    id: string,
    prompt: string,
    options: { execute?: boolean; voice?: boolean } = {},
  ): Promise<Agent> {
    if (this.#shuttingDown) throw new BusyError("Cannot follow up: the daemon is shutting down");
    checkFollowUpPrompt(prompt);
    const found = this.#mustGet(id);
    if (found.kind === "imported") {
      return await adoptImported(this.#forkContext(), found, prompt, options.voice === true);
    }
    const agent = checkFollowUpAgent(found);
    // A process that printed its result may still be exiting: never run two on one session.
    await this.#runs.get(id)?.done;
    const queued = requeueFollowUp(this.#store, agent, prompt, options.execute === true);
    return this.#enqueue(queued, options.voice === true);
  }

  /** A new agent continuing `id`'s session from its stored line `seq` (`fork.ts`). */
  fork(id: string, seq: number, prompt: string, options: { name?: string | null } = {}) {
    if (this.#shuttingDown) throw new BusyError("Cannot fork: the daemon is shutting down");
    return forkAgent(this.#forkContext(), id, seq, prompt, options);
  }

  #forkContext(): ForkContext {
    return {
      store: this.#store,
      settings: this.#settings,
      protectedDirs: this.#o.protectedDirs ?? [],
      allowedRoots: this.#o.allowedRoots ?? null,
      daemonEnv: this.#o.daemonEnv,
      proxyConfigDir: (kind) => this.usesProxy({ kind }) ? this.proxy!.configDir : null,
      enqueue: (agent, voice) => this.#enqueue(agent, voice),
    };
  }

  /** awaiting_review → completed. */
  complete(id: string): Agent {
    const agent = this.#mustGet(id);
    if (agent.status !== "awaiting_review") {
      throw new InvalidStateError(
        `Cannot complete agent "${id}": it is ${agent.status} (needs awaiting_review)`,
      );
    }
    return this.#store.transition(id, "completed", { finished_at: Date.now() });
  }

  /**
   * Stops an agent and everything it started. Resolves once the agent is `cancelled`, which
   * happens only when none of its processes is left.
   */
  async cancel(id: string): Promise<Agent> {
    const agent = this.#mustGet(id);
    if (agent.status === "queued" && !this.#runs.has(id)) {
      this.#queue.remove(id);
      return this.#store.transition(id, "cancelled", {
        cancel_requested_at: Date.now(),
        finished_at: Date.now(),
        error_code: "cancelled",
        error_message: "Cancelled before it started",
      });
    }
    if (agent.status === "paused" && !this.#runs.has(id)) {
      const cancelled = this.#store.transition(id, "cancelled", {
        cancel_requested_at: Date.now(),
        finished_at: Date.now(),
        error_code: "cancelled",
        error_message: "Cancelled while paused",
        resume_at: null,
      });
      this.#quotaTick();
      return cancelled;
    }
    const run = this.#runs.get(id);
    if (agent.status !== "running" && agent.status !== "queued" || !run) {
      throw new InvalidStateError(`Cannot cancel agent "${id}": it is ${agent.status}`);
    }
    this.#store.updateAgent(id, { cancel_requested_at: Date.now() });
    run.requestStop({ code: "cancelled", message: "Cancelled by request", status: "cancelled" });
    await run.done;
    // A pause that was already stopping the run wins the stop; the cancel still ends the agent.
    return this.#mustGet(id).status === "paused" ? this.cancel(id) : this.#mustGet(id);
  }

  /**
   * Pauses an agent by hand: a queued one stays out of the queue, a running one is stopped
   * cleanly with its session kept. Resolves with the `paused` row.
   */
  async pause(id: string): Promise<Agent> {
    const agent = this.#mustGet(id);
    const run = this.#runs.get(id);
    if (agent.status === "queued" && !run) {
      this.#queue.remove(id);
      return this.#store.transition(
        id,
        "paused",
        this.#pausePatch({
          reason: "manual",
          message: "Paused by request",
        }),
      );
    }
    if ((agent.status !== "running" && agent.status !== "queued") || !run) {
      throw new InvalidStateError(
        `Cannot pause agent "${id}": it is ${agent.status} (needs queued or running)`,
      );
    }
    // A run still spawning stops as soon as its row says running.
    run.pause({ reason: "manual", message: "Paused by request" });
    await run.done;
    return this.#mustGet(id);
  }

  /**
   * Pauses a running agent whose request the upstream rejected for the rate limit (the proxy saw
   * a 429 with unified status `rejected`). No-op for an agent without a live run.
   */
  pauseForRateLimit(id: string, info: { resetAt: number | null; window: string | null }): void {
    const run = this.#runs.get(id);
    if (!run) return;
    const resumeAt = info.resetAt ?? this.#clock.now() + this.#settings.quota.fallbackPauseMs;
    run.pause({
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
    this.#runs.get(id)?.pause({ reason: "budget", message: `Paused: ${reason}` });
  }

  /** Continues a paused agent now (through the queue and its caps); the session is kept. */
  resume(id: string): Agent {
    if (this.#shuttingDown) throw new BusyError("Cannot resume: the daemon is shutting down");
    const agent = this.#mustGet(id);
    if (agent.status !== "paused" || this.#runs.has(id)) {
      throw new InvalidStateError(`Cannot resume agent "${id}": it is ${agent.status}, not paused`);
    }
    if (agent.pause_reason === "budget") {
      const reached = this.#budgetReached(agent);
      if (reached) {
        throw new InvalidStateError(
          `Cannot resume agent "${id}": ${reached}; raise the budget first (agent.set_budget)`,
        );
      }
    }
    const queued = this.#resumeRow(agent);
    this.#quotaTick();
    return this.#store.getAgent(queued.id) ?? queued;
  }

  /**
   * Sets an agent's budget (null clears one, a missing field keeps it). An agent paused for its
   * budget that is now within it continues in place.
   */
  setBudget(
    id: string,
    budget: { max_cost_usd?: number | null; max_turns?: number | null },
  ): Agent {
    checkBudget(budget);
    this.#mustGet(id);
    const patch: { max_cost_usd?: number | null; max_turns?: number | null } = {};
    if (budget.max_cost_usd !== undefined) patch.max_cost_usd = budget.max_cost_usd;
    if (budget.max_turns !== undefined) patch.max_turns = budget.max_turns;
    const agent = this.#store.updateAgent(id, patch);
    if (
      agent.status === "paused" && agent.pause_reason === "budget" && !this.#runs.has(id) &&
      !this.#shuttingDown && this.#budgetReached(agent) === null
    ) {
      this.#resumeRow(agent);
      this.#quotaTick();
    }
    return this.#mustGet(id);
  }

  /** Deletes a terminal agent, its stored lines and its finished shadows (`delete.ts`). */
  delete(id: string): Promise<void> {
    return deleteAgent(id, {
      store: this.#store,
      writer: this.#o.writer,
      runOf: (agentId) => this.#runs.get(agentId),
      agentStateDir: this.#o.agentStateDir ?? null,
      log: this.#log,
    });
  }

  /** Resolves when the agent has no live run (its process and descendants are gone). */
  async settled(id: string): Promise<Agent> {
    for (;;) {
      const run = this.#runs.get(id);
      if (run) {
        await run.done;
        continue;
      }
      if (this.#queue.has(id)) {
        // After shutdown a queued agent stays queued for the next daemon: nothing to wait for.
        if (this.#shuttingDown) return this.#mustGet(id);
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      return this.#mustGet(id);
    }
  }

  /**
   * Graceful stop: no new work, every running agent is stopped and ends `failed` with
   * `daemon_shutdown`, every stored line is flushed. Queued agents stay queued. All agents are
   * stopped together (one grace period, one process-table snapshot per round for all of them) and
   * their terminal rows share transactions, so N agents cost about one grace period, not N.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.#accepting = false;
    this.#stopWatchdog?.();
    this.#clearQuotaTimer();
    await stopForShutdown([...this.#runs.values()], {
      control: this.#control,
      graceMs: this.#settings.supervisor.cancelGraceMs,
      log: this.#log,
    });
    await this.#o.writer.flush();
  }

  /** Queues a stored agent (its turn waits on its row) and starts what fits; returns its row. */
  #enqueue(agent: Agent, voice = false): Agent {
    this.#queue.push(agent, { voice });
    this.#pump();
    return this.#store.getAgent(agent.id) ?? agent;
  }

  #mustGet(id: string): Agent {
    const agent = this.#store.getAgent(id);
    if (!agent) throw new AgentNotFoundError(id);
    return agent;
  }

  /** The fields a pause stores on the row. */
  #pausePatch(request: PauseRequest) {
    return {
      pause_reason: request.reason,
      pause_window: request.window ?? null,
      resume_at: request.resumeAt ?? null,
      paused_at: this.#clock.now(),
      error_code: null,
      error_message: request.message,
    };
  }

  #budgetReached(agent: Agent): string | null {
    const cap = this.#settings.quota.dailyBudgetUsd;
    let daily: { usedUsd: number; capUsd: number | null } | null = null;
    if (cap !== null) {
      const now = this.#clock.now();
      const dayStart = now - (now % 86_400_000);
      daily = { usedUsd: this.#store.usageSums(dayStart, now + 1).cost_usd, capUsd: cap };
    }
    return budgetReached(agent, daily);
  }

  /**
   * paused → queued, exactly once (the transition refuses a second time): the session continues
   * with the continuation prompt, unless a follow-up's prompt already waits on the row or no
   * session was ever opened (then the turn starts over).
   */
  #resumeRow(agent: Agent): Agent {
    const record = this.#store.getProcessRecord(agent.id);
    const continueSession = agent.session_id !== null && record?.pending_prompt == null;
    const queued = this.#store.transition(agent.id, "queued", {
      pause_reason: null,
      pause_window: null,
      resume_at: null,
      paused_at: null,
      error_message: null,
      finished_at: null,
      ...(continueSession
        ? {
          pending_prompt: this.#settings.quota.continuePrompt,
          pending_permission_mode: record?.pending_permission_mode ?? "bypassPermissions",
        }
        : {}),
    });
    this.#queue.push(queued);
    return queued;
  }

  #clearQuotaTimer(): void {
    if (this.#quotaTimer !== null) this.#clock.clearTimeout(this.#quotaTimer);
    this.#quotaTimer = null;
    this.#quotaTimerAt = null;
  }

  /**
   * The governor's step: every paused agent whose reset (+ skew + its jitter) has passed goes back
   * to the queue (oldest due first), then the queue is pumped, then the timer is set for the next
   * thing due. The rows are the truth, so a restart re-arms from them.
   */
  #quotaTick(): void {
    if (!this.#accepting) return;
    try {
      this.#resumeDue();
    } catch (err) {
      this.#log("error", "Cannot resume paused agents", { err: `${err}` });
    }
    this.#pump();
  }

  /** Queues every paused agent whose reset (+ skew + its jitter) has passed, oldest due first. */
  #resumeDue(): void {
    const now = this.#clock.now();
    const paused = this.#store.listAgentsByStatus(["paused"]);
    const due = paused
      .map((agent) => ({ agent, at: resumeDueAt(agent, this.#settings.quota) }))
      .filter((d): d is { agent: Agent; at: number } => d.at !== null)
      .sort((a, b) => a.at - b.at || a.agent.created_at - b.agent.created_at);
    for (const d of due) {
      if (d.at > now || this.#runs.has(d.agent.id)) continue;
      try {
        this.#resumeRow(d.agent);
      } catch (err) {
        this.#log("error", "Cannot resume a paused agent", {
          agent: d.agent.id,
          error: String(err),
        });
      }
    }
  }

  /** Sets the one timer to `at` unless it is set for that time or earlier. */
  #armQuotaTimer(at: number): void {
    if (this.#quotaTimerAt !== null && this.#quotaTimerAt <= at) return;
    this.#clearQuotaTimer();
    this.#quotaTimerAt = at;
    // setTimeout takes at most 2^31-1 ms; a longer pause re-arms when that fires.
    const delay = Math.min(Math.max(0, at - this.#clock.now()), 2 ** 31 - 1);
    this.#quotaTimer = this.#clock.setTimeout(() => {
      this.#quotaTimer = null;
      this.#quotaTimerAt = null;
      this.#quotaTick();
    }, delay);
  }

  /** Arms the timer for the next resume due and the end of the admission block. */
  #armFromRows(paused: Agent[]): void {
    let next: number | null = this.#admission?.until ?? null;
    for (const agent of paused) {
      const at = resumeDueAt(agent, this.#settings.quota);
      if (at !== null && (next === null || at < next)) next = at;
    }
    if (next !== null) this.#armQuotaTimer(next);
  }

  #pump(): void {
    if (!this.#accepting) return;
    try {
      this.#updateAdmission();
    } catch (err) {
      // A storage fault must not stop the queue: the last known admission stands.
      this.#log("error", "Cannot read the quota state", { err: `${err}` });
    }
    if (this.#admission) return;
    let shadow = 0;
    for (const run of this.#runs.values()) if (run.shadow) shadow++;
    this.#queue.dispatch(
      { standard: this.#runs.size - shadow, shadow },
      {
        standard: this.#settings.supervisor.maxConcurrent,
        shadow: this.#settings.shadows.maxConcurrent,
      },
      (entry) => this.#startRun(entry),
    );
  }

  /** While a window is rejected or nearly used up nothing starts into it (shadows neither). */
  #updateAdmission(): void {
    const paused = this.#store.listAgentsByStatus(["paused"]);
    const now = this.#clock.now();
    const fromPauses = admissionBlock(paused, now, this.#settings.quota);
    const fromHeaders = headerBlock(
      this.#store.rateLimitSnapshots(1)[0]?.headers,
      now,
      this.#settings.quota,
    );
    this.#admission = fromPauses && fromHeaders
      ? (fromPauses.until >= fromHeaders.until ? fromPauses : fromHeaders)
      : fromPauses ?? fromHeaders;
    this.#armFromRows(paused);
  }

  /** Starts the queued agent of `entry` (false when it is no longer queued). */
  #startRun(entry: QueueEntry): boolean {
    const agent = this.#store.getAgent(entry.id);
    if (!agent || agent.status !== "queued") return false;
    const reached = agent.kind === "shadow" ? null : this.#budgetReached(agent);
    if (reached) {
      // The next turn never starts past a budget: the agent waits, paused, for a person.
      this.#store.transition(
        agent.id,
        "paused",
        this.#pausePatch({
          reason: "budget",
          message: `Paused: ${reached}`,
        }),
      );
      return false;
    }
    const firstStart = agent.started_at === null && agent.kind !== "shadow" &&
      this.#hooks.beforeFirstStart !== undefined;
    const run: AgentRun = new AgentRun({
      agent,
      turn: turnOf(this.#store, agent, { voice: entry.voice }),
      store: this.#store,
      writer: this.#o.writer,
      control: this.#control,
      settings: this.#settings,
      log: this.#log,
      launch: this.#launch,
      beforeSpawn: firstStart
        ? () => this.#hook("beforeFirstStart", agent) ?? Promise.resolve()
        : null,
      // One prompt per process: after its result, closing stdin lets the CLI exit.
      closeAfterResult: true,
      commitFinish: (write) => {
        if (this.#shuttingDown) return this.#finishes.add(agent.id, write);
        write();
      },
      onEnded: () => this.#runEnded(run),
      now: () => this.#clock.now(),
      fallbackPauseMs: this.#settings.quota.fallbackPauseMs,
      shuttingDown: () => this.#shuttingDown,
    });
    this.#runs.set(agent.id, run);
    run.start();
    return true;
  }

  #runEnded(run: AgentRun): void {
    this.#runs.delete(run.agentId);
    try {
      const agent = this.#store.getAgent(run.agentId);
      // A run's token dies with it (terminal states revoke in the same transaction too).
      if (agent && this.usesProxy(agent)) this.#store.revokeProxyTokens(run.agentId);
      if (agent) this.#hook("runEnded", agent);
    } catch (err) { // a storage fault here must not stop the queue
      this.#log("error", "Cannot finish a run's bookkeeping", {
        agent: run.agentId,
        err: `${err}`,
      });
    }
    this.#quotaTick();
  }
}
