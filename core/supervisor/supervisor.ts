import {
  type Agent,
  type AgentKind,
  BusyError,
  Effort,
  InvalidStateError,
  newId,
  TERMINAL_STATUSES,
  ValidationError,
} from "../models/mod.ts";
import type { EngineSettings, Env, ProxyScope } from "../config/mod.ts";
import {
  AgentNotFoundError,
  type AgentPatch,
  type MessageWriter,
  type Store,
} from "../store/mod.ts";
import type { EventBus } from "../events/mod.ts";
import {
  AGENT_MARKER_VAR,
  buildChildEnv,
  buildClaudeArgs,
  classifyLine,
  type ClaudeProcess,
  LineTooLongError,
  type PermissionMode,
  readInit,
  readRateLimit,
  readResult,
  spawnClaude,
  type TurnResult,
  type UsageTotals,
  UsageTracker,
} from "../claude/mod.ts";
import {
  createProcessControl,
  type ProcessControl,
  terminateTree,
  terminateTrees,
} from "./process_control.ts";
import { ownedProcesses, type ProcessInfo } from "./process_table.ts";
import { validateCwd } from "./cwd.ts";
import { retryStorage } from "./storage_retry.ts";
import {
  homeMcpConfig,
  removeAgentState,
  VOICE_SYSTEM_PROMPT,
  writeMcpConfig,
} from "./home_mcp.ts";
import { homeCwd, isHomeMcp } from "../config/mod.ts";
import { MAX_HERO_CONTEXT_CHARS } from "../models/mod.ts";
import { mintProxyToken } from "../proxy/token.ts";
import { fallbackTitle } from "../shadow/text.ts";

export interface CreateAgentInput {
  prompt: string;
  /** Required unless `home_mcp` has a configured default working directory. */
  cwd?: string | undefined;
  /** The Hero service whose router MCP gateway the agent gets (`hero_books`). */
  home_mcp?: string | null | undefined;
  /** The caller's `X-Hero-Context` header, passed on to the home MCP server. */
  hero_context?: string | null | undefined;
  /** A spoken turn: the reply is asked to read well aloud. */
  voice?: boolean | undefined;
  model?: string | undefined;
  effort?: Effort | undefined;
  name?: string | null | undefined;
  kind?: AgentKind | undefined;
  parent_id?: string | null | undefined;
}

/** How agents reach the quota proxy (absent or null: every agent talks to the upstream). */
export interface SupervisorProxy {
  socketPath: string;
  /** `all` or `shadows_only`. */
  scope: Exclude<ProxyScope, "off">;
  /** `CLAUDE_CONFIG_DIR` of proxied children: holds no credential of the daemon's. */
  configDir: string;
  /** A minted token expires after this long at the latest. */
  tokenTtlMs: number;
}

/** Lifecycle hooks (the shadows use them). A throwing hook never disturbs the agent. */
export interface SupervisorHooks {
  /** After `create()` stored a non-shadow agent; `autoNamed` when its name is the fallback. */
  created?(agent: Agent, info: { autoNamed: boolean }): void;
  /** Before an agent's very first process is spawned (awaited, at most 10 s). */
  beforeFirstStart?(agent: Agent): Promise<void>;
  /** After a run ended: its process and descendants are gone and the status is final for it. */
  runEnded?(agent: Agent): void;
}

/** Input of {@linkcode Supervisor.createShadow}. */
export interface CreateShadowInput {
  parent: Agent;
  prompt: string;
  name: string;
  model: string;
}

export interface SupervisorOptions {
  store: Store;
  writer: MessageWriter;
  bus: EventBus;
  settings: EngineSettings;
  /** The daemon's environment; only the allow-list reaches children. */
  daemonEnv: Env;
  /** Directories an agent's cwd may never be inside (state, sockets, DB). */
  protectedDirs?: string[];
  /** When set, an agent's canonical cwd must be inside one of these. */
  allowedRoots?: string[] | null;
  control?: ProcessControl;
  /** The quota proxy, when one runs. */
  proxy?: SupervisorProxy | null;
  /**
   * Directory of the agents' private state (`<state dir>/agents`): per-agent MCP configs. Agents
   * with a home MCP cannot start without it.
   */
  agentStateDir?: string | null;
  log?: (
    level: "info" | "warn" | "error",
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

type StopCode =
  | "cancelled"
  | "idle_timeout"
  | "max_runtime"
  | "line_too_long"
  | "stdout_closed"
  | "rate_limited"
  | "daemon_shutdown";

interface StopReason {
  code: StopCode;
  message: string;
  status: "cancelled" | "failed";
  resetsAt?: number | null;
}

interface Run {
  agentId: string;
  shadow: boolean;
  marker: string;
  proc: ClaudeProcess | null;
  startedAt: number;
  result: TurnResult | null;
  resultAt: number | null;
  stop: StopReason | null;
  stopping: Promise<void> | null;
  /** A process that printed its result but did not exit is terminated; the status stays. */
  lingerKill: Promise<void> | null;
  /** A stop already proved nothing owned is left and the root exited: no exit-time sweep. */
  treeSettled: boolean;
  done: Promise<void>;
}

/** During shutdown, terminal rows of runs ending within this window share one transaction. */
const FINISH_BATCH_MS = 25;

interface PendingStart {
  prompt: string;
  resume: string | null;
  permissionMode: PermissionMode;
  /** A spoken turn (not kept across a daemon restart). */
  voice?: boolean;
}

export interface RecoveryReport {
  reconciled: number;
  requeued: number;
  /** Processes found carrying a marker of one of our agents, and terminated. */
  swept: number;
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

function parseMarker(value: string): { agentId: string; marker: string } | null {
  const dot = value.indexOf(".");
  if (dot <= 0) return null;
  return { agentId: value.slice(0, dot), marker: value };
}

const MARKER_IN_ENV = new RegExp(` ${AGENT_MARKER_VAR}=(\\S+)`);

/**
 * Owns every claude process: starts queued agents within the concurrency cap, reads and stores
 * their output, moves them through their lifecycle, and stops whole process trees.
 */
export class Supervisor {
  #store: Store;
  #writer: MessageWriter;
  #bus: EventBus;
  #settings: EngineSettings;
  #daemonEnv: Env;
  #control: ProcessControl;
  #protectedDirs: string[];
  #allowedRoots: string[] | null;
  #log: NonNullable<SupervisorOptions["log"]>;
  #runs = new Map<string, Run>();
  /** FIFO of queued agents; shadows wait in their own queue with their own cap. */
  #queue: string[] = [];
  #shadowQueue: string[] = [];
  #proxy: SupervisorProxy | null;
  #agentStateDir: string | null;
  #hooks: SupervisorHooks = {};
  #pending = new Map<string, PendingStart>();
  #accepting = false;
  #shuttingDown = false;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  /** Runs whose terminal row waits for the next shared transaction (shutdown only). */
  #finishQueue: Array<{ write: () => Agent | null; agentId: string; written: () => void }> = [];
  #finishTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: SupervisorOptions) {
    this.#store = options.store;
    this.#writer = options.writer;
    this.#bus = options.bus;
    this.#settings = options.settings;
    this.#daemonEnv = options.daemonEnv;
    this.#control = options.control ?? createProcessControl();
    this.#protectedDirs = options.protectedDirs ?? [];
    this.#allowedRoots = options.allowedRoots ?? null;
    this.#proxy = options.proxy ?? null;
    this.#agentStateDir = options.agentStateDir ?? null;
    this.#log = options.log ?? ((level, message, fields) => {
      if (level !== "info") console.error(JSON.stringify({ level, message, ...fields }));
    });
  }

  /** Agents with a live (or starting) process. */
  get runningCount(): number {
    return this.#runs.size;
  }

  get queuedCount(): number {
    return this.#queue.length + this.#shadowQueue.length;
  }

  /** The proxy agents use, or null. */
  get proxy(): SupervisorProxy | null {
    return this.#proxy;
  }

  /** Installs the lifecycle hooks (replacing earlier ones). */
  setHooks(hooks: SupervisorHooks): void {
    this.#hooks = hooks;
  }

  /** Whether `agent` talks to the upstream through the proxy. */
  usesProxy(agent: Pick<Agent, "kind">): boolean {
    return this.#proxy !== null && (this.#proxy.scope === "all" || agent.kind === "shadow");
  }

  #enqueue(agent: Pick<Agent, "id" | "kind">): void {
    (agent.kind === "shadow" ? this.#shadowQueue : this.#queue).push(agent.id);
  }

  #isQueued(id: string): boolean {
    return this.#queue.includes(id) || this.#shadowQueue.includes(id);
  }

  #dequeue(id: string): void {
    this.#queue = this.#queue.filter((q) => q !== id);
    this.#shadowQueue = this.#shadowQueue.filter((q) => q !== id);
  }

  /** Calls a hook; a throwing or rejecting hook is logged, never propagated. */
  #hook(name: "created", agent: Agent, info: { autoNamed: boolean }): void;
  #hook(name: "beforeFirstStart", agent: Agent): Promise<void>;
  #hook(name: "runEnded", agent: Agent): void;
  #hook(name: keyof SupervisorHooks, ...args: unknown[]): Promise<void> | void {
    const fn = this.#hooks[name] as ((...a: unknown[]) => unknown) | undefined;
    const fail = (err: unknown) =>
      this.#log("error", `the ${name} hook failed`, { error: String(err) });
    if (!fn) return name === "beforeFirstStart" ? Promise.resolve() : undefined;
    try {
      const out = fn.apply(this.#hooks, args);
      if (out instanceof Promise) return out.then(() => {}, fail);
    } catch (err) {
      fail(err);
    }
    return name === "beforeFirstStart" ? Promise.resolve() : undefined;
  }

  /**
   * Crash recovery, before anything else accepts work: every `running` agent becomes `failed`
   * (`daemon_restart`), every process carrying one of our agents' markers is terminated, and
   * `queued` agents are queued again in their original order. Never re-runs a started agent.
   */
  async recover(): Promise<RecoveryReport> {
    const now = Date.now();
    const running = this.#store.listAgentsByStatus(["running"]);
    const reconciled = this.#store.transitionMany(
      running.map((a) => a.id),
      "failed",
      {
        error_code: "daemon_restart",
        error_message: "The daemon stopped while this agent was running",
        finished_at: now,
      },
    );
    for (const agent of reconciled) this.#publishAgent(agent);

    // Everything still alive with a marker of ours is an orphan: no agent can be running yet.
    const table = await this.#control.list();
    const owned: ProcessInfo[] = [];
    const markers = new Set<string>();
    for (const p of table) {
      const m = MARKER_IN_ENV.exec(p.argsAndEnv);
      if (!m || p.pid === Deno.pid) continue;
      const parsed = parseMarker(m[1]!);
      if (!parsed) continue;
      const record = this.#store.getProcessRecord(parsed.agentId);
      if (record?.marker === parsed.marker) markers.add(parsed.marker);
    }
    for (const marker of markers) {
      owned.push(
        ...ownedProcesses(table, { marker, markerVar: AGENT_MARKER_VAR, excludePid: Deno.pid }),
      );
    }
    // All orphans in shared rounds (one ps snapshot, one kill run each), as at shutdown: one
    // terminate loop per orphan would start a ps per orphan at once.
    if (markers.size > 0) {
      await terminateTrees({
        control: this.#control,
        graceMs: this.#settings.supervisor.cancelGraceMs,
        targets: [...markers].map((marker) => ({
          query: { marker, markerVar: AGENT_MARKER_VAR, excludePid: Deno.pid },
          termAll: true,
        })),
      });
    }
    if (owned.length > 0) {
      this.#log("warn", "terminated orphaned agent processes", { count: owned.length });
    }

    const queued = this.#store.listAgentsByStatus(["queued"]);
    for (const agent of queued) {
      if (!this.#pending.has(agent.id)) this.#pending.set(agent.id, this.#pendingFromRow(agent));
      this.#enqueue(agent);
    }
    return { reconciled: reconciled.length, requeued: queued.length, swept: owned.length };
  }

  /** Starts taking work: queued agents start within the concurrency cap. */
  start(): void {
    this.#accepting = true;
    this.#watchdog = setInterval(() => this.#checkWatchdogs(), 250);
    this.#pump();
  }

  /** Validates and stores a new agent (`queued`), then starts it when a slot is free. */
  create(input: CreateAgentInput): Agent {
    if (this.#shuttingDown) throw new BusyError("Cannot create agent: the daemon is shutting down");
    const model = input.model ?? this.#settings.claude.defaultModel;
    if (!this.#settings.claude.models.includes(model)) {
      throw new ValidationError(
        "invalid_model",
        `Cannot create agent: model "${model}" is not one of ${
          this.#settings.claude.models.join(", ")
        }`,
        "model",
      );
    }
    const effort = input.effort ?? this.#settings.claude.defaultEffort;
    if (!Effort.safeParse(effort).success) {
      throw new ValidationError(
        "invalid_effort",
        `Cannot create agent: effort "${effort}" is not one of ${Effort.options.join(", ")}`,
        "effort",
      );
    }
    if (typeof input.prompt !== "string" || input.prompt.length === 0) {
      throw new ValidationError(
        "invalid_prompt",
        "Cannot create agent: the prompt is empty",
        "prompt",
      );
    }
    const homeMcp = input.home_mcp ?? null;
    if (homeMcp !== null && !isHomeMcp(homeMcp)) {
      throw new ValidationError(
        "invalid_home_mcp",
        `Cannot create agent: home_mcp "${
          String(homeMcp).slice(0, 80)
        }" is not a service name like hero_books (^hero_[a-z0-9_]+$, at most 64 characters)`,
        "home_mcp",
      );
    }
    const heroContext = input.hero_context || null;
    if (heroContext !== null && heroContext.length > MAX_HERO_CONTEXT_CHARS) {
      // The RPC layer answers this as invalid params before it gets here.
      throw new RangeError(
        `Cannot create agent: X-Hero-Context is longer than ${MAX_HERO_CONTEXT_CHARS} characters`,
      );
    }
    const requestedCwd = input.cwd ??
      (homeMcp !== null ? homeCwd(this.#settings.homeMcp, homeMcp) : null);
    if (requestedCwd === null) {
      throw new ValidationError(
        "invalid_cwd",
        homeMcp !== null
          ? `Cannot create agent: no cwd given and no default working directory for ${homeMcp} (set HERO_ORCHESTRATOR_HOME_CWDS or HERO_ORCHESTRATOR_HOME_DEFAULT_CWD)`
          : "Cannot create agent: cwd is required",
        "cwd",
      );
    }
    const cwd = validateCwd(requestedCwd, {
      protectedDirs: this.#protectedDirs,
      allowedRoots: this.#allowedRoots,
    });
    const kind = input.kind ?? "standard";
    const given = typeof input.name === "string" && input.name.trim() !== "" ? input.name : null;
    // Unnamed agents get their prompt's first words at once (a naming shadow may improve on it).
    const autoNamed = given === null && kind !== "shadow";
    const agent = this.#store.insertAgent({
      id: newId(),
      name: autoNamed ? fallbackTitle(input.prompt) : given,
      prompt: input.prompt,
      cwd,
      model,
      effort,
      kind,
      parent_id: input.parent_id ?? null,
      home_mcp: homeMcp,
      hero_context: heroContext,
    });
    this.#publishAgent(agent);
    if (kind !== "shadow") this.#hook("created", agent, { autoNamed });
    this.#pending.set(agent.id, { ...this.#pendingFromRow(agent), voice: input.voice === true });
    this.#enqueue(agent);
    this.#pump();
    return this.#store.getAgent(agent.id) ?? agent;
  }

  /**
   * Stores and queues a shadow of `parent`: a tool-less claude run in the parent's cwd, with its
   * own slots (never an agent's), through the proxy under the default scope.
   */
  createShadow(input: CreateShadowInput): Agent {
    if (this.#shuttingDown) {
      throw new BusyError("Cannot create shadow: the daemon is shutting down");
    }
    const agent = this.#store.insertAgent({
      id: newId(),
      name: input.name,
      prompt: input.prompt,
      cwd: input.parent.cwd,
      model: input.model,
      effort: "none",
      kind: "shadow",
      parent_id: input.parent.id,
    });
    this.#publishAgent(agent);
    this.#pending.set(agent.id, this.#pendingFromRow(agent));
    this.#enqueue(agent);
    this.#pump();
    return this.#store.getAgent(agent.id) ?? agent;
  }

  /** Runs a failed shadow again from scratch (a new session, the same prompt). */
  retryShadow(id: string): Agent {
    if (this.#shuttingDown) throw new BusyError("Cannot retry shadow: the daemon is shutting down");
    const agent = this.#mustGet(id);
    if (agent.kind !== "shadow" || agent.status !== "failed" || this.#runs.has(id)) {
      throw new InvalidStateError(
        `Cannot retry agent "${id}": only a failed shadow without a live process can be retried`,
      );
    }
    const queued = this.#store.transition(id, "queued", {
      error_code: null,
      error_message: null,
      finished_at: null,
      session_id: null,
    });
    this.#publishAgent(queued);
    this.#pending.set(id, this.#pendingFromRow(queued));
    this.#enqueue(queued);
    this.#pump();
    return this.#store.getAgent(id) ?? queued;
  }

  /**
   * Continues an agent's claude session (`--resume`) with a new prompt. Allowed from
   * awaiting_review and failed; a planner's follow-up with `execute` leaves plan mode.
   */
  async followUp(
    id: string,
    prompt: string,
    options: { execute?: boolean; voice?: boolean } = {},
  ): Promise<Agent> {
    if (this.#shuttingDown) throw new BusyError("Cannot follow up: the daemon is shutting down");
    if (typeof prompt !== "string" || prompt.length === 0) {
      throw new ValidationError(
        "invalid_prompt",
        "Cannot follow up: the prompt is empty",
        "prompt",
      );
    }
    const agent = this.#mustGet(id);
    if (agent.status !== "awaiting_review" && agent.status !== "failed") {
      throw new InvalidStateError(
        `Cannot follow up agent "${id}": it is ${agent.status} (needs awaiting_review or failed)`,
      );
    }
    if (!agent.session_id) {
      throw new InvalidStateError(
        `Cannot follow up agent "${id}": it has no claude session to resume`,
      );
    }
    // A process that printed its result may still be exiting: never run two on one session.
    await this.#runs.get(id)?.done;
    const permissionMode: PermissionMode = agent.kind === "planner" && !options.execute
      ? "plan"
      : "bypassPermissions";
    const queued = this.#store.transition(id, "queued", {
      pending_prompt: prompt,
      pending_permission_mode: permissionMode,
      error_code: null,
      error_message: null,
      finished_at: null,
    });
    this.#publishAgent(queued);
    this.#pending.set(id, {
      prompt,
      resume: agent.session_id,
      permissionMode,
      voice: options.voice === true,
    });
    this.#enqueue(agent);
    this.#pump();
    return this.#store.getAgent(id) ?? queued;
  }

  /** awaiting_review → completed. */
  complete(id: string): Agent {
    const agent = this.#mustGet(id);
    if (agent.status !== "awaiting_review") {
      throw new InvalidStateError(
        `Cannot complete agent "${id}": it is ${agent.status} (needs awaiting_review)`,
      );
    }
    const done = this.#store.transition(id, "completed", { finished_at: Date.now() });
    this.#publishAgent(done);
    return done;
  }

  /**
   * Stops an agent and everything it started. Resolves once the agent is `cancelled`, which
   * happens only when none of its processes is left.
   */
  async cancel(id: string): Promise<Agent> {
    const agent = this.#mustGet(id);
    if (agent.status === "queued" && !this.#runs.has(id)) {
      this.#dequeue(id);
      this.#pending.delete(id);
      const cancelled = this.#store.transition(id, "cancelled", {
        cancel_requested_at: Date.now(),
        finished_at: Date.now(),
        error_code: "cancelled",
        error_message: "Cancelled before it started",
      });
      this.#publishAgent(cancelled);
      return cancelled;
    }
    const run = this.#runs.get(id);
    if (agent.status !== "running" && agent.status !== "queued" || !run) {
      throw new InvalidStateError(`Cannot cancel agent "${id}": it is ${agent.status}`);
    }
    const updated = this.#store.updateAgent(id, { cancel_requested_at: Date.now() });
    this.#publishAgent(updated);
    this.#requestStop(run, {
      code: "cancelled",
      message: "Cancelled by request",
      status: "cancelled",
    });
    await run.done;
    return this.#mustGet(id);
  }

  /** Deletes a terminal agent and its stored lines. */
  async delete(id: string): Promise<void> {
    const agent = this.#mustGet(id);
    if (!TERMINAL_STATUSES.includes(agent.status)) {
      throw new InvalidStateError(
        `Cannot delete agent "${id}": it is ${agent.status} (needs completed, failed or cancelled)`,
      );
    }
    // A completed agent's process may still be exiting (and its last lines being stored).
    await this.#runs.get(id)?.done;
    await this.#writer.flush();
    // Its finished shadows go with it; a shadow still running is left to finish on its own.
    const shadows = agent.kind === "shadow"
      ? []
      : this.#store.listAgents({ parent_id: id, kinds: ["shadow"], limit: 1000 }).agents;
    // Each delete commits a tombstone (`agent_deleted`) with it; published once committed.
    for (const shadow of shadows) {
      if (!TERMINAL_STATUSES.includes(shadow.status) || this.#runs.has(shadow.id)) continue;
      const gone = this.#store.deleteAgent(shadow.id);
      this.#writer.forgetAgent(shadow.id);
      this.#bus.publish({
        kind: "agent_deleted",
        id: gone.event_id,
        agent_id: gone.id,
        ts: gone.deleted_at,
      });
    }
    const gone = this.#store.deleteAgent(id);
    this.#writer.forgetAgent(id);
    this.#bus.publish({
      kind: "agent_deleted",
      id: gone.event_id,
      agent_id: gone.id,
      ts: gone.deleted_at,
    });
    if (this.#agentStateDir !== null) {
      try {
        removeAgentState(this.#agentStateDir, id);
      } catch (err) {
        this.#log("warn", "Cannot remove the agent's state directory", {
          agent: id,
          error: String(err),
        });
      }
    }
  }

  /** Resolves when the agent has no live run (its process and descendants are gone). */
  async settled(id: string): Promise<Agent> {
    for (;;) {
      const run = this.#runs.get(id);
      if (run) {
        await run.done;
        continue;
      }
      if (this.#isQueued(id)) {
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
    clearInterval(this.#watchdog);
    const runs = [...this.#runs.values()];
    const reason: StopReason = {
      code: "daemon_shutdown",
      message: "The daemon was shut down while this agent was running",
      status: "failed",
    };
    const together: Run[] = [];
    for (const run of runs) {
      run.stop ??= reason;
      // A run still spawning stops itself once its process exists (it checks `run.stop`); one
      // already being stopped (a cancel) keeps its own stop.
      if (run.proc && !run.stopping) together.push(run);
    }
    this.#stopTogether(together);
    await Promise.all(runs.map((r) => r.done));
    await this.#writer.flush();
  }

  /**
   * Stops many runs for about the cost of one: stdin closed, then SIGTERM + SIGCONT for all at
   * once, one shared grace period, SIGKILL for what is left, with ONE process-table snapshot and
   * one `kill` per round for all of them (`terminateTrees`). Ownership per run is the usual one
   * (its marker, or descent from its live root). Each run's `stopping` settles as soon as its own
   * tree is empty.
   */
  #stopTogether(runs: Run[]): void {
    if (runs.length === 0) return;
    const settled = runs.map(() => Promise.withResolvers<void>());
    const exited = runs.map(() => false);
    runs.forEach((run, i) => {
      run.stopping = settled[i]!.promise;
      const mark = () => (exited[i] = true);
      run.proc!.status.then(mark, mark);
    });
    (async () => {
      // stdin first (a CLI may end cleanly on EOF), but a stuck pipe must not hold up the signals.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(runs.map((run) => run.proc!.closeStdin())),
        new Promise((r) => (timer = setTimeout(r, 250))),
      ]).finally(() => clearTimeout(timer));
      await terminateTrees({
        control: this.#control,
        graceMs: this.#settings.supervisor.cancelGraceMs,
        targets: runs.map((run, i) => {
          const proc = run.proc!;
          return {
            query: {
              marker: run.marker,
              markerVar: AGENT_MARKER_VAR,
              rootPid: proc.pid,
              excludePid: Deno.pid,
            },
            signalRoot: (signal: Deno.Signal) => proc.signal(signal),
            rootExited: () => exited[i]!,
            onSettled: (report) => {
              if (report.survivors > 0) {
                this.#log("error", "processes survived SIGKILL", {
                  agent: run.agentId,
                  survivors: report.survivors,
                });
              } else {
                run.treeSettled = true;
              }
              settled[i]!.resolve();
            },
          };
        }),
      });
    })().catch((err) => {
      // ps or kill failed: every run still gets its own exit-time sweep (treeSettled is false).
      this.#log("error", "Cannot stop the agents together", { error: String(err) });
      for (const s of settled) s.resolve();
    });
  }

  /**
   * Shutdown: a run's terminal row joins the next shared transaction (all runs ending together
   * commit once), then it is published. Resolves once that row is committed.
   */
  #finishTogether(run: Run, status: Deno.CommandStatus, storageError: unknown): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#finishQueue.push({
      write: () => this.#finishRow(run, status, storageError),
      agentId: run.agentId,
      written: resolve,
    });
    if (this.#finishQueue.length >= this.#runs.size) {
      // Every live run is waiting for its row: no reason to wait for stragglers.
      clearTimeout(this.#finishTimer);
      this.#flushFinishes();
    } else {
      this.#finishTimer ??= setTimeout(() => this.#flushFinishes(), FINISH_BATCH_MS);
    }
    return promise;
  }

  #flushFinishes(): void {
    this.#finishTimer = undefined;
    const batch = this.#finishQueue.splice(0);
    if (batch.length === 0) return;
    // Each row's own event id, read right after its write (ids stay strictly increasing).
    const write = (item: (typeof batch)[number]) => {
      const agent = item.write();
      return agent ? { agent, id: this.#store.lastEventId() } : null;
    };
    let rows: Array<{ agent: Agent; id: number } | null>;
    try {
      rows = this.#store.write(() => batch.map(write));
    } catch {
      // Rolled back as a whole: write them one by one so one bad row cannot hold up the others.
      rows = batch.map((item) => {
        try {
          return write(item);
        } catch (err) {
          this.#log("error", "Cannot record the end of an agent run", {
            agent: item.agentId,
            error: String(err),
          });
          return null;
        }
      });
    }
    // Published only after COMMIT (the ack rule).
    for (const row of rows) if (row) this.#bus.publish({ kind: "agent", ...row });
    for (const item of batch) item.written();
  }

  #pendingFromRow(agent: Agent): PendingStart {
    const record = this.#store.getProcessRecord(agent.id);
    if (record?.pending_prompt != null) {
      return {
        prompt: record.pending_prompt,
        resume: agent.session_id,
        permissionMode: (record.pending_permission_mode as PermissionMode | null) ??
          "bypassPermissions",
      };
    }
    return {
      prompt: agent.prompt,
      resume: null,
      permissionMode: agent.kind === "planner"
        ? "plan"
        : agent.kind === "shadow"
        ? "default"
        : "bypassPermissions",
    };
  }

  #mustGet(id: string): Agent {
    const agent = this.#store.getAgent(id);
    if (!agent) throw new AgentNotFoundError(id);
    return agent;
  }

  #publishAgent(agent: Agent): void {
    this.#bus.publish({ kind: "agent", id: this.#store.lastEventId(), agent });
  }

  #pump(): void {
    if (!this.#accepting) return;
    let shadows = 0;
    for (const run of this.#runs.values()) if (run.shadow) shadows++;
    let agents = this.#runs.size - shadows;
    const take = (queue: string[], free: () => boolean, started: () => void) => {
      while (queue.length > 0 && free()) {
        const id = queue.shift()!;
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        const agent = this.#store.getAgent(id);
        if (!agent || agent.status !== "queued" || !pending) continue;
        started();
        this.#startRun(agent, pending);
      }
    };
    take(this.#queue, () => agents < this.#settings.supervisor.maxConcurrent, () => agents++);
    take(
      this.#shadowQueue,
      () => shadows < this.#settings.shadows.maxConcurrent,
      () => shadows++,
    );
  }

  #startRun(agent: Agent, pending: PendingStart): void {
    let resolveDone!: () => void;
    const run: Run = {
      agentId: agent.id,
      shadow: agent.kind === "shadow",
      marker: `${agent.id}.${randomHex(16)}`,
      proc: null,
      startedAt: Date.now(),
      result: null,
      resultAt: null,
      stop: null,
      stopping: null,
      lingerKill: null,
      treeSettled: false,
      done: new Promise((r) => (resolveDone = r)),
    };
    this.#runs.set(agent.id, run);
    this.#execute(run, agent, pending)
      .catch((err) =>
        this.#log("error", "agent run crashed", { agent: agent.id, error: String(err) })
      )
      .finally(() => {
        this.#runs.delete(agent.id);
        // A run's token dies with it (terminal states revoke in the same transaction too).
        if (this.usesProxy(agent)) {
          try {
            this.#store.revokeProxyTokens(agent.id);
          } catch (err) {
            this.#log("error", "Cannot revoke proxy tokens", {
              agent: agent.id,
              error: String(err),
            });
          }
        }
        resolveDone();
        try {
          const ended = this.#store.getAgent(agent.id);
          if (ended) this.#hook("runEnded", ended);
        } catch (err) {
          this.#log("error", "Cannot read the agent after its run", {
            agent: agent.id,
            error: String(err),
          });
        }
        this.#pump();
      });
  }

  async #execute(run: Run, agent: Agent, pending: PendingStart): Promise<void> {
    const { claude } = this.#settings;
    if (agent.started_at === null && agent.kind !== "shadow" && this.#hooks.beforeFirstStart) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#hook("beforeFirstStart", agent),
        new Promise((r) => (timer = setTimeout(r, 10_000))),
      ]).finally(() => clearTimeout(timer));
    }
    // The marker is durable before the process exists, so a crash right after spawn still
    // leaves enough to find and stop it at the next start.
    await this.#durably(
      "record the process marker",
      agent.id,
      () => this.#store.updateAgent(agent.id, { proc_marker: run.marker }),
    );
    let proc: ClaudeProcess;
    try {
      // A proxied child's only credential is a fresh token of its own; only its hash is stored.
      let proxy = null;
      if (this.#proxy && this.usesProxy(agent)) {
        const minted = mintProxyToken();
        const expiresAt = Date.now() + this.#proxy.tokenTtlMs;
        await this.#durably(
          "store the proxy token",
          agent.id,
          () => this.#store.insertProxyToken(agent.id, minted.hash, expiresAt),
        );
        proxy = {
          socketPath: this.#proxy.socketPath,
          agentId: agent.id,
          token: minted.token,
          configDir: this.#proxy.configDir,
        };
      }
      proc = spawnClaude({
        bin: claude.bin,
        args: buildClaudeArgs({
          model: agent.model,
          effort: agent.effort,
          permissionMode: pending.permissionMode,
          resume: pending.resume,
          bare: agent.kind === "shadow",
          mcpConfigPath: this.#homeMcpConfigPath(agent),
          appendSystemPrompt: pending.voice ? VOICE_SYSTEM_PROMPT : null,
        }),
        cwd: agent.cwd,
        env: buildChildEnv({
          daemonEnv: this.#daemonEnv,
          settings: claude,
          effort: agent.effort,
          marker: run.marker,
          proxy,
        }),
        maxLineBytes: claude.maxLineBytes,
        stderrTailBytes: claude.stderrTailBytes,
      });
    } catch (err) {
      const failed = await this.#durably(
        "record the failed spawn",
        agent.id,
        () =>
          this.#store.transition(agent.id, "failed", {
            error_code: "spawn_failed",
            error_message: err instanceof Error ? err.message : String(err),
            finished_at: Date.now(),
            pending_prompt: null,
          }),
      );
      this.#publishAgent(failed);
      return;
    }
    run.proc = proc;
    const now = Date.now();
    const running = await this.#durably(
      "record the start",
      agent.id,
      () =>
        this.#store.transition(agent.id, "running", {
          pid: proc.pid,
          pgid: proc.pid,
          started_at: agent.started_at ?? now,
          proc_started_at: now,
          finished_at: null,
          exit_code: null,
          exit_signal: null,
          error_code: null,
          error_message: null,
          cancel_requested_at: null,
          pending_prompt: null,
          pending_permission_mode: null,
        }),
    );
    this.#publishAgent(running);
    // A cancel may have arrived while the row was being written.
    if (run.stop) this.#requestStop(run, run.stop);

    proc.sendUserMessage(pending.prompt).catch(() => {
      // The process died before reading its prompt; its exit status tells the story.
    });

    const tracker = new UsageTracker(running);
    tracker.startProcess();
    let ledgerBase = tracker.totals();
    let lastAck: Promise<unknown> = Promise.resolve();
    // A line the writer could not store (not a storage fault: those are retried); every ack is
    // observed so none becomes an unhandled rejection.
    let ackError: unknown = null;
    const reader = proc.lines.getReader();
    try {
      for (;;) {
        const { value: line, done } = await reader.read();
        if (done) break;
        const classified = classifyLine(line.bytes);
        const patch: AgentPatch = {};
        let result: TurnResult | null = null;
        let rateLimited: { resetsAt: number | null } | null = null;
        const value = classified.value;
        if (value) {
          const init = readInit(value);
          if (init?.sessionId) patch.session_id = init.sessionId;
          const totals = tracker.observe(value);
          if (totals) Object.assign(patch, totals);
          result = readResult(value);
          if (result) {
            patch.result = result.result;
            if (result.sessionId) patch.session_id = result.sessionId;
          }
          const rl = readRateLimit(value);
          if (rl?.rejected) {
            rateLimited = { resetsAt: rl.resetsAtMs };
            patch.rate_limit_resets_at = rl.resetsAtMs;
          }
        }
        const ack = this.#writer.append({
          agentId: agent.id,
          bytes: line.bytes,
          ts: Date.now(),
          type: classified.type,
          subtype: classified.subtype,
          parseError: classified.parseError,
          eofNoNewline: line.eofNoNewline,
          agentPatch: Object.keys(patch).length > 0 ? patch : undefined,
        });
        lastAck = ack;
        ack.catch((err) => (ackError ??= err));
        if (result) {
          // Status changes only after the result line itself is durable.
          await ack;
          ledgerBase = this.#recordTurnUsage(agent.id, ledgerBase, tracker.totals());
          await this.#onResult(run, result);
        }
        if (rateLimited) {
          await ack;
          this.#requestStop(run, {
            code: "rate_limited",
            message: `The API rate limit was reached${
              rateLimited.resetsAt
                ? `; it resets at ${new Date(rateLimited.resetsAt).toISOString()}`
                : ""
            }`,
            status: "failed",
            resetsAt: rateLimited.resetsAt,
          });
        }
        const full = this.#writer.capacity();
        if (full) await full;
      }
    } catch (err) {
      if (err instanceof LineTooLongError) {
        this.#requestStop(run, { code: "line_too_long", message: err.message, status: "failed" });
      } else if (!run.stop) {
        this.#log("error", "reading claude output failed", { agent: agent.id, error: String(err) });
        this.#requestStop(run, {
          code: "cancelled",
          message: `Cannot read claude output: ${err instanceof Error ? err.message : String(err)}`,
          status: "failed",
        });
      }
      reader.cancel().catch(() => {});
    }
    if (!run.stop && run.result === null) await this.#stopIfStdoutClosed(run, proc);

    const status = await proc.status;
    await proc.stderrDone;
    let storageError: unknown = null;
    try {
      await lastAck;
      await this.#writer.flush();
    } catch (err) {
      storageError = err;
    }
    storageError ??= ackError;
    if (run.stopping) await run.stopping;
    if (run.lingerKill) await run.lingerKill;
    // Whatever the agent left behind (background tools, servers) ends with it.
    if (!run.treeSettled) {
      await terminateTree({
        control: this.#control,
        query: { marker: run.marker, markerVar: AGENT_MARKER_VAR, excludePid: Deno.pid },
        graceMs: this.#settings.supervisor.cancelGraceMs,
        termAll: true,
      });
    }
    if (this.#shuttingDown) await this.#finishTogether(run, status, storageError);
    else await this.#finish(run, status, storageError);
  }

  /**
   * Stdout reached EOF before a result: a CLI that lives on without it can never report again,
   * so after a short grace it is stopped (`stdout_closed`) instead of waiting for the idle timeout.
   */
  async #stopIfStdoutClosed(run: Run, proc: ClaudeProcess): Promise<void> {
    const graceMs = this.#settings.supervisor.stdoutEofGraceMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      proc.status.then(() => true, () => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), graceMs))),
    ]).finally(() => clearTimeout(timer));
    if (exited || run.stop) return;
    this.#log("warn", "claude closed its stdout but kept running; stopping it", {
      agent: run.agentId,
      grace_ms: graceMs,
    });
    this.#requestStop(run, {
      code: "stdout_closed",
      message: `claude closed its stdout and was still running ${graceMs} ms later`,
      status: "failed",
    });
  }

  /** Writes an agent's home MCP config (before every spawn); null without a home MCP. */
  #homeMcpConfigPath(agent: Agent): string | null {
    if (agent.home_mcp === null) return null;
    if (this.#agentStateDir === null) {
      throw new Error(
        `Cannot give agent "${agent.id}" its home MCP: no agent state directory is configured`,
      );
    }
    return writeMcpConfig(
      this.#agentStateDir,
      agent.id,
      homeMcpConfig(this.#settings.homeMcp, agent.home_mcp, agent.hero_context),
    );
  }

  /** Appends the turn's deltas to the usage ledger; returns the new base. */
  #recordTurnUsage(agentId: string, base: UsageTotals, now: UsageTotals): UsageTotals {
    try {
      this.#store.recordTurnUsage(agentId, Date.now(), {
        input_tokens: Math.max(0, now.input_tokens - base.input_tokens),
        output_tokens: Math.max(0, now.output_tokens - base.output_tokens),
        cache_read_tokens: Math.max(0, now.cache_read_tokens - base.cache_read_tokens),
        cache_creation_tokens: Math.max(0, now.cache_creation_tokens - base.cache_creation_tokens),
        cost_usd: Math.max(0, now.total_cost_usd - base.total_cost_usd),
      });
    } catch (err) {
      this.#log("error", "Cannot record turn usage", { agent: agentId, error: String(err) });
    }
    return now;
  }

  async #onResult(run: Run, result: TurnResult): Promise<void> {
    run.result = result;
    run.resultAt = Date.now();
    // One prompt per process: after its result, closing stdin lets the CLI exit.
    run.proc?.closeStdin();
    if (run.stop) return;
    const next = await this.#durably("record the result", run.agentId, () => {
      const agent = this.#store.getAgent(run.agentId);
      if (agent?.status !== "running" || run.stop) return null;
      return this.#resultRow(run.agentId, result);
    });
    if (next) this.#publishAgent(next);
  }

  #resultRow(agentId: string, result: TurnResult): Agent {
    if (result.isError) {
      return this.#store.transition(agentId, "failed", {
        error_code: result.apiErrorStatus != null || result.terminalReason === "api_error"
          ? "api_error"
          : "turn_error",
        error_message: result.result ??
          (result.errors.join("; ") || `claude ended the turn with ${result.subtype}`),
        finished_at: Date.now(),
      });
    }
    return this.#store.transition(agentId, "awaiting_review", {});
  }

  #requestStop(run: Run, reason: StopReason): void {
    if (!run.stop) run.stop = reason;
    if (run.stopping || !run.proc) return;
    const proc = run.proc;
    run.stopping = (async () => {
      await proc.closeStdin();
      const report = await terminateTree({
        control: this.#control,
        query: {
          marker: run.marker,
          markerVar: AGENT_MARKER_VAR,
          rootPid: proc.pid,
          excludePid: Deno.pid,
        },
        graceMs: this.#settings.supervisor.cancelGraceMs,
        signalRoot: (signal) => proc.signal(signal),
      });
      if (report.survivors > 0) {
        this.#log("error", "processes survived SIGKILL", {
          agent: run.agentId,
          survivors: report.survivors,
        });
      }
    })();
  }

  async #finish(run: Run, status: Deno.CommandStatus, storageError: unknown): Promise<void> {
    const next = await this.#durably(
      "record the end of the run",
      run.agentId,
      () => this.#finishRow(run, status, storageError),
    );
    if (next) this.#publishAgent(next);
  }

  /** A run's own write (marker, start, result, end), retried through storage faults. */
  #durably<T>(what: string, agentId: string, fn: () => T): Promise<T> {
    return retryStorage(fn, {
      what,
      agentId,
      monitor: this.#writer.monitor,
      minDelayMs: this.#settings.store.retryMinMs,
      maxDelayMs: this.#settings.store.retryMaxMs,
      abandon: () => this.#shuttingDown,
      log: this.#log,
    });
  }

  /** Writes a run's final row (exit status; terminal status if still running); null if deleted. */
  #finishRow(run: Run, status: Deno.CommandStatus, storageError: unknown): Agent | null {
    const agent = this.#store.getAgent(run.agentId);
    if (!agent) return null; // deleted meanwhile
    const proc = run.proc!;
    const base: AgentPatch = {
      exit_code: status.signal ? null : status.code,
      exit_signal: status.signal ?? null,
      stderr_tail: proc.stderr.totalBytes > 0 ? proc.stderr.text() : null,
      stderr_truncated: proc.stderr.truncated,
    };
    if (agent.status !== "running") return this.#store.updateAgent(run.agentId, base);
    const finished_at = Date.now();
    let next: Agent;
    if (run.stop) {
      next = this.#store.transition(run.agentId, run.stop.status, {
        ...base,
        error_code: run.stop.code,
        error_message: run.stop.message,
        finished_at,
        ...(run.stop.resetsAt !== undefined ? { rate_limit_resets_at: run.stop.resetsAt } : {}),
      });
    } else if (storageError) {
      next = this.#store.transition(run.agentId, "failed", {
        ...base,
        error_code: "storage_error",
        error_message: storageError instanceof Error ? storageError.message : String(storageError),
        finished_at,
      });
    } else {
      const tail = proc.stderr.text().trim().split("\n").at(-1) ?? "";
      const how = status.signal
        ? `was killed by ${status.signal}`
        : `exited with code ${status.code}`;
      next = this.#store.transition(run.agentId, "failed", {
        ...base,
        error_code: status.success ? "exit_without_result" : "exit_nonzero",
        error_message: `claude ${how} before printing a result${tail ? `: ${tail}` : ""}`,
        finished_at,
      });
    }
    return next;
  }

  #checkWatchdogs(): void {
    const now = Date.now();
    const { idleTimeoutMs, maxRuntimeMs, resultExitGraceMs } = this.#settings.supervisor;
    for (const run of this.#runs.values()) {
      const proc = run.proc;
      if (!proc || run.stopping) continue;
      if (run.resultAt !== null) {
        if (!run.lingerKill && now - run.resultAt >= resultExitGraceMs) {
          this.#log("warn", "claude did not exit after its result; terminating it", {
            agent: run.agentId,
          });
          run.lingerKill = terminateTree({
            control: this.#control,
            query: {
              marker: run.marker,
              markerVar: AGENT_MARKER_VAR,
              rootPid: proc.pid,
              excludePid: Deno.pid,
            },
            graceMs: this.#settings.supervisor.cancelGraceMs,
            signalRoot: (signal) => proc.signal(signal),
          }).then(() => {});
        }
        continue;
      }
      if (now - run.startedAt >= maxRuntimeMs) {
        this.#requestStop(run, {
          code: "max_runtime",
          message: `Stopped after the maximum runtime of ${maxRuntimeMs} ms`,
          status: "failed",
        });
      } else if (now - proc.lastOutputAt >= idleTimeoutMs) {
        this.#requestStop(run, {
          code: "idle_timeout",
          message: `Stopped after ${idleTimeoutMs} ms without output`,
          status: "failed",
        });
      }
    }
  }
}
