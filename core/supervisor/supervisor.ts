/**
 * `Supervisor`: the façade of the agent lifecycle. It validates and stores requests, keeps the
 * queue, and starts each queued agent as an {@linkcode AgentRun} within the caps; the rooms behind
 * it are `run.ts` (one process), `queue.ts`, `launch.ts`, `recovery.ts`, `shutdown.ts` and
 * `watchdog.ts`. Every store write publishes through the store's outbox after COMMIT.
 * @module
 */
import {
  type Agent,
  BusyError,
  fallbackTitle,
  InvalidStateError,
  newId,
  ValidationError,
} from "../models/mod.ts";
import type { EngineSettings } from "../config/mod.ts";
import { AgentNotFoundError, type Store } from "../store/mod.ts";
import { CLI_PERMISSION_MODES, type CliPermissionMode } from "../claude/mod.ts";
import { createProcessControl, type ProcessControl } from "./process_control.ts";
import { deleteAgent } from "./delete.ts";
import {
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
import { AgentRun, type Delivery } from "./run.ts";
import { FinishBatch, stopForShutdown } from "./shutdown.ts";
import {
  callHook,
  type CreateShadowInput,
  stderrWarnings,
  type SupervisorHooks,
  type SupervisorLog,
  type SupervisorOptions,
} from "./types.ts";
import { startWatchdog } from "./watchdog.ts";

export type { CreateAgentInput } from "./create_input.ts";
export type { SupervisorProxy } from "./launch.ts";
export type { RecoveryReport } from "./recovery.ts";
export { ControlError, type Delivery } from "./run.ts";

/** What `send` did: wrote to the live process (`started`/`queued`) or resumed the session. */
export type SendDelivery = Delivery | "resumed";
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
    this.#pump();
  }

  /** Validates and stores a new agent (`queued`), then starts it when a slot is free. */
  create(input: CreateAgentInput): Agent {
    if (this.#shuttingDown) throw new BusyError("Cannot create agent: the daemon is shutting down");
    const checked = checkCreateInput(input, {
      settings: this.#settings,
      protectedDirs: this.#o.protectedDirs ?? [],
      allowedRoots: this.#o.allowedRoots ?? null,
    });
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

  /** Whether the agent has a live process that takes prompts and control requests on stdin. */
  isLive(id: string): boolean {
    return this.#runs.get(id)?.live === true;
  }

  /**
   * Delivers a prompt to an agent now. A live idle process starts the next turn at once (same
   * process); a running turn gets it queued by the CLI as its next turn; with no process the
   * session is resumed (`--resume`) exactly as {@linkcode followUp}.
   */
  async send(
    id: string,
    prompt: string,
    options: { execute?: boolean; voice?: boolean } = {},
  ): Promise<{ agent: Agent; delivery: SendDelivery }> {
    if (this.#shuttingDown) throw new BusyError("Cannot send: the daemon is shutting down");
    checkFollowUpPrompt(prompt);
    const agent = this.#mustGet(id);
    // An imported session continues as a new, supervised agent.
    if (agent.kind === "imported") {
      return {
        agent: await adoptImported(this.#forkContext(), agent, prompt, options.voice === true),
        delivery: "resumed",
      };
    }
    const run = this.#runs.get(id);
    // A voice turn needs its own system prompt, which only a new process can carry.
    if (
      run?.live && !options.voice &&
      (agent.status === "running" || agent.status === "awaiting_review" ||
        agent.status === "failed")
    ) {
      if (agent.kind === "planner" && options.execute) {
        await run.control({ subtype: "set_permission_mode", mode: "bypassPermissions" });
      }
      const delivery = await run.deliver(prompt);
      return { agent: this.#mustGet(id), delivery };
    }
    return { agent: await this.#resume(id, prompt, options), delivery: "resumed" };
  }

  /**
   * Continues an agent's session with a new prompt: through its live process when it has one,
   * else resumed (`--resume`) in a new process. Allowed from awaiting_review and failed (and, with
   * a live process, while running: the prompt is queued); a planner's follow-up with `execute`
   * leaves plan mode.
   */
  async followUp(
    id: string,
    prompt: string,
    options: { execute?: boolean; voice?: boolean } = {},
  ): Promise<Agent> {
    return (await this.send(id, prompt, options)).agent;
  }

  /**
   * Interrupts the running turn of a live process (`interrupt` control request): the turn ends,
   * the process stays, the agent goes to awaiting_review keeping what it produced. Not cancel.
   */
  async interrupt(id: string): Promise<Agent> {
    const agent = this.#mustGet(id);
    const run = this.#runs.get(id);
    if (agent.status !== "running" || !run?.live) {
      throw new InvalidStateError(
        `Cannot interrupt agent "${id}": it is ${agent.status}${
          run?.live ? "" : " without a live process"
        } (needs a running turn)`,
      );
    }
    await run.interrupt();
    // The result of the interrupted turn follows the control response within milliseconds.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && this.#mustGet(id).status === "running" && run.live) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.#mustGet(id);
  }

  /** Switches the model of a live process (`set_model`); the model must be a configured one. */
  async setModel(id: string, model: string): Promise<Agent> {
    if (!this.#settings.claude.models.includes(model)) {
      throw new ValidationError(
        "invalid_model",
        `Cannot set model "${model}": it is not one of ${this.#settings.claude.models.join(", ")}`,
        "model",
      );
    }
    const run = this.#liveRun(id, "set the model of");
    await run.control({ subtype: "set_model", model });
    return this.#store.updateAgent(id, { model });
  }

  /** Switches the permission mode of a live process (`set_permission_mode`). */
  async setPermissionMode(id: string, mode: CliPermissionMode): Promise<Agent> {
    if (!(CLI_PERMISSION_MODES as readonly string[]).includes(mode)) {
      throw new ValidationError(
        "invalid_params",
        `Cannot set permission mode "${mode}": it is not one of ${CLI_PERMISSION_MODES.join(", ")}`,
        "mode",
      );
    }
    const run = this.#liveRun(id, "set the permission mode of");
    await run.control({ subtype: "set_permission_mode", mode });
    return this.#mustGet(id);
  }

  #liveRun(id: string, what: string): AgentRun {
    this.#mustGet(id);
    const run = this.#runs.get(id);
    if (!run?.live) {
      throw new InvalidStateError(`Cannot ${what} agent "${id}": it has no live process`);
    }
    return run;
  }

  /** Resumes the session (`--resume`) in a new process; the prompt waits on the agent's row. */
  async #resume(
    id: string,
    prompt: string,
    options: { execute?: boolean; voice?: boolean },
  ): Promise<Agent> {
    const agent = checkFollowUpAgent(this.#mustGet(id));
    // A voice turn in a live session: that process ends, the new one carries the voice prompt.
    this.#runs.get(id)?.endSession();
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
    const completed = this.#store.transition(id, "completed", { finished_at: Date.now() });
    // A live session ends with the review: the CLI exits once its stdin closes.
    this.#runs.get(id)?.endSession();
    return completed;
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
    const run = this.#runs.get(id);
    if (agent.status === "awaiting_review") {
      // A live session in review: its process is stopped too, then the agent is cancelled.
      this.#store.updateAgent(id, { cancel_requested_at: Date.now() });
      if (run) {
        run.requestStop({
          code: "cancelled",
          message: "Cancelled by request",
          status: "cancelled",
        });
        await run.done;
      }
      const now = this.#mustGet(id);
      if (now.status !== "awaiting_review") return now;
      return this.#store.transition(id, "cancelled", {
        finished_at: Date.now(),
        error_code: "cancelled",
        error_message: "Cancelled by request",
      });
    }
    if (agent.status !== "running" && agent.status !== "queued" || !run) {
      throw new InvalidStateError(`Cannot cancel agent "${id}": it is ${agent.status}`);
    }
    this.#store.updateAgent(id, { cancel_requested_at: Date.now() });
    run.requestStop({ code: "cancelled", message: "Cancelled by request", status: "cancelled" });
    await run.done;
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
    if (!this.#accepting) return;
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

  /** Starts the queued agent of `entry` (false when it is no longer queued). */
  #startRun(entry: QueueEntry): boolean {
    const agent = this.#store.getAgent(entry.id);
    if (!agent || agent.status !== "queued") return false;
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
      // A live session keeps stdin open after a result; shadows (and sessionIdleMs 0) run one
      // prompt per process: after its result, closing stdin lets the CLI exit.
      closeAfterResult: agent.kind === "shadow" || this.#settings.supervisor.sessionIdleMs === 0,
      commitFinish: (write) => {
        if (this.#shuttingDown) return this.#finishes.add(agent.id, write);
        write();
      },
      onEnded: () => this.#runEnded(run),
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
    this.#pump();
  }
}
