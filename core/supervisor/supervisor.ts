/**
 * `Supervisor`: the façade of the agent lifecycle. It validates and stores requests, keeps the
 * queue, and starts each queued agent as an {@linkcode AgentRun} within the caps; the rooms behind
 * it are `run.ts` (one process), `live.ts` (send, interrupt, complete, cancel), `queue.ts`,
 * `launch.ts`, `recovery.ts`, `shutdown.ts` and `watchdog.ts`. Every store write publishes through the store's outbox after COMMIT.
 * @module
 */
import { type Agent, BusyError, fallbackTitle, newId } from "../models/mod.ts";
import type { EngineSettings } from "../config/mod.ts";
import { AgentNotFoundError, type Store } from "../store/mod.ts";
import type { CliPermissionMode } from "../claude/mod.ts";
import { createProcessControl, type ProcessControl } from "./process_control.ts";
import { deleteAgent } from "./delete.ts";
import type { PreparedWorktree } from "./isolation.ts";
import { type WorktreeContext, Worktrees } from "./worktrees.ts";
import { checkCreateInput, type CreateAgentInput } from "./create_input.ts";
import { createLauncher, type SupervisorProxy, usesProxy } from "./launch.ts";
import { AgentQueue, dispatchWithin, type QueueEntry, turnOf } from "./queue.ts";
import { adoptImported, forkAgent, type ForkContext, type ForkOptions } from "./fork.ts";
import { insertShadow, requeueShadow } from "./requeue.ts";
import { recoverRuns, type RecoveryReport } from "./recovery.ts";
import { settle } from "./settle.ts";
import { AgentRun } from "./run.ts";
import * as live from "./live.ts";
import { FinishBatch, stopForShutdown } from "./shutdown.ts";
import { QuotaGovernor, type QuotaHost } from "./pause.ts";
import {
  callHook,
  type CreateShadowInput,
  stderrWarnings,
  type SupervisorHooks,
  type SupervisorLog,
  type SupervisorOptions,
} from "./types.ts";
import { startWatchdog } from "./watchdog.ts";
import { ApprovalDesk } from "./approvals.ts";

export type { CreateAgentInput } from "./create_input.ts";
export type { SupervisorProxy } from "./launch.ts";
export type { RecoveryReport } from "./recovery.ts";
export { ControlError, type Delivery } from "./session.ts";
export type { SendDelivery, SendOptions } from "./live.ts";
export type { CreateShadowInput, SupervisorHooks } from "./types.ts";
export type { SupervisorLog, SupervisorOptions } from "./types.ts";

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
  /** Permission prompts, answered exactly once; fail closed (`approvals.ts`). */
  readonly approvals: ApprovalDesk;
  /** Pauses, resumes and admission against the quota and budgets (`pause.ts`). */
  readonly quota: QuotaGovernor;
  /** Worktree isolation and review: create in a worktree, diff, discard (`worktrees.ts`). */
  readonly worktrees: Worktrees;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#store = options.store;
    this.#settings = options.settings;
    this.#control = options.control ?? createProcessControl();
    this.#titleFor = options.titleFor ?? fallbackTitle;
    this.#log = options.log ?? stderrWarnings;
    // The launcher takes the options it shares with the supervisor (store, proxy, sandbox, …).
    this.#launch = createLauncher({
      ...options,
      proxy: options.proxy ?? null,
      agentStateDir: options.agentStateDir ?? null,
    });
    this.approvals = new ApprovalDesk(this.#context());
    this.#finishes = new FinishBatch({ ...options, log: this.#log, live: () => this.#runs.size });
    this.quota = new QuotaGovernor(() => this.#context());
    this.worktrees = new Worktrees(() => this.#context(), options);
  }

  /** Processes at work (starting, in a turn, or idle in a live session); not those only exiting. */
  get runningCount(): number {
    let working = 0;
    for (const run of this.#runs.values()) if (run.session.exitDueSince === null) working++;
    return working;
  }

  get queuedCount(): number {
    return this.#queue.size;
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
    await this.worktrees.reconcile();
    const requeued = this.#queue.rebuild(this.#store).length;
    this.approvals.recover(); // the processes that asked are gone: their prompts expire
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
    this.quota.tick();
  }

  /**
   * Validates and stores a new agent (`queued`), then starts it when a slot is free; `isolated`:
   * it runs in that worktree (`worktrees.create()` makes one).
   */
  create(input: CreateAgentInput, isolated: PreparedWorktree | null = null): Agent {
    if (this.#shuttingDown) throw new BusyError("Cannot create agent: the daemon is shutting down");
    const checked = checkCreateInput(input, this.#context());
    // Unnamed agents get their prompt's first words at once (a naming shadow may improve on it).
    const autoNamed = checked.name === null && checked.kind !== "shadow";
    const agent = this.#store.insertAgent({
      id: isolated?.id ?? newId(),
      name: autoNamed ? this.#titleFor(input.prompt) : checked.name,
      prompt: input.prompt,
      cwd: checked.cwd,
      model: checked.model,
      effort: checked.effort,
      kind: checked.kind,
      parent_id: input.parent_id ?? null,
      home_mcp: checked.homeMcp,
      hero_context: checked.heroContext,
      permission_mode: input.permission_mode,
      ...checked.quota,
    }, isolated?.isolation);
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

  /** Whether the agent has a live process that takes prompts and control requests on stdin. */
  isLive(id: string): boolean {
    return this.#runs.get(id)?.session.live === true;
  }

  /** Delivers a prompt now: to the live process, queued behind its turn, or resumed (`live.ts`). */
  send(id: string, prompt: string, options: live.SendOptions = {}) {
    if (this.#shuttingDown) throw new BusyError("Cannot send: the daemon is shutting down");
    return live.sendPrompt(this.#context(), id, prompt, options);
  }

  /** {@linkcode send} answering the agent (agent.follow_up is its alias). */
  async followUp(id: string, prompt: string, options: live.SendOptions = {}): Promise<Agent> {
    return (await this.send(id, prompt, options)).agent;
  }

  /** Interrupts the running turn of a live process; the process and the session stay. */
  interrupt(id: string): Promise<Agent> {
    return live.interruptTurn(this.#context(), id);
  }

  /** Switches the model of a live process (`set_model`); the model must be a configured one. */
  setModel(id: string, model: string): Promise<Agent> {
    return live.setLiveModel(this.#context(), id, model);
  }

  /** Switches the permission mode of a live process (`set_permission_mode`). */
  setPermissionMode(id: string, mode: CliPermissionMode): Promise<Agent> {
    return live.setLivePermissionMode(this.#context(), id, mode);
  }

  /** A new agent continuing `id`'s session from its stored line `seq` (`fork.ts`). */
  fork(id: string, seq: number, prompt: string, options: ForkOptions = {}) {
    if (this.#shuttingDown) throw new BusyError("Cannot fork: the daemon is shutting down");
    return forkAgent(this.#context(), id, seq, prompt, options);
  }

  /** What the rooms behind the façade (forks, worktrees) need of it. */
  #context(): ForkContext & WorktreeContext & live.LiveContext & QuotaHost {
    const o = this.#o;
    return {
      ...o,
      protectedDirs: o.protectedDirs ?? [],
      allowedRoots: o.allowedRoots ?? null,
      worktreeDir: o.worktreeDir ?? null,
      log: this.#log,
      titleFor: this.#titleFor,
      worktrees: this.worktrees,
      proxyConfigDir: (kind) => this.usesProxy({ kind }) ? this.proxy!.configDir : null,
      enqueue: (agent, voice) => this.#enqueue(agent, voice),
      insert: (input, prepared) => this.create(input, prepared),
      followUp: (id, prompt) => this.followUp(id, prompt),
      runOf: (id) => this.#runs.get(id),
      shuttingDown: () => this.#shuttingDown,
      mustGet: (id) => this.#mustGet(id),
      dequeue: (id) => this.#queue.remove(id),
      adopt: (agent, prompt, voice) => adoptImported(this.#context(), agent, prompt, voice),
      pauseEnded: () => this.quota.tick(),
      budgetReached: (agent) => this.quota.budgetReached(agent),
      runs: this.#runs,
      queue: this.#queue,
      pump: () => this.#pump(),
    };
  }

  /** awaiting_review → completed; a live session ends with the review. */
  complete(id: string): Agent {
    return live.completeAgent(this.#context(), id);
  }

  /** Stops an agent, everything it started and its shadows; resolves once it is `cancelled`. */
  cancel(id: string): Promise<Agent> {
    return live.cancelAgent(this.#context(), id);
  }

  /**
   * Deletes a terminal agent, its stored lines, its finished shadows (`delete.ts`) and its
   * worktree and branch (refused when they hold unmerged work, unless `force`).
   */
  delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    return deleteAgent(id, {
      store: this.#store,
      writer: this.#o.writer,
      runOf: (agentId) => this.#runs.get(agentId),
      dequeue: (agentId) => this.#queue.remove(agentId),
      agentStateDir: this.#o.agentStateDir ?? null,
      log: this.#log,
      removeWorktree: (agentId) => this.worktrees.removeForDelete(agentId, options.force === true),
    });
  }

  /** Resolves when the agent has no live run (its process and descendants are gone). */
  settled(id: string): Promise<Agent> {
    return settle(id, {
      run: (agentId) => this.#runs.get(agentId),
      queued: (agentId) => this.#queue.has(agentId),
      shuttingDown: () => this.#shuttingDown,
      get: (agentId) => this.#mustGet(agentId),
    });
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
    this.quota.stop();
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

  #pump(): void {
    if (!this.#accepting || !this.quota.admits()) return;
    const caps = {
      standard: this.#settings.supervisor.maxConcurrent,
      shadow: this.#settings.shadows.maxConcurrent,
    };
    dispatchWithin(this.#queue, this.#runs.values(), caps, (entry) => this.#startRun(entry));
  }

  /** Starts the queued agent of `entry` (false when it is no longer queued). */
  #startRun(entry: QueueEntry): boolean {
    const agent = this.#store.getAgent(entry.id);
    if (!agent || agent.status !== "queued" || !this.quota.mayStart(agent)) return false;
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
      credentialKind: this.#o.credentialKind,
      beforeSpawn: firstStart
        ? () => this.#hook("beforeFirstStart", agent) ?? Promise.resolve()
        : null,
      // A live session keeps stdin open after a result; shadows (and sessionIdleMs 0) run one
      // prompt per process: after its result, closing stdin lets the CLI exit.
      closeAfterResult: agent.kind === "shadow" || this.#settings.supervisor.sessionIdleMs === 0,
      commitFinish: (write) => {
        if (this.#shuttingDown) return this.#finishes.add(agent.id, write);
        write();
      },
      onEnded: () => this.#runEnded(run),
      onRateLimited: (info) => this.quota.pauseForRateLimit(agent.id, info),
      shuttingDown: () => this.#shuttingDown,
      onDelta: this.#o.onDelta,
      approvals: this.approvals,
    });
    this.#runs.set(agent.id, run);
    run.start();
    return true;
  }

  #runEnded(run: AgentRun): void {
    this.approvals.runEnded(run);
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
    this.quota.tick();
  }
}
