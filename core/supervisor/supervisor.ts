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
import type { EngineSettings, Env } from "../config/mod.ts";
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
  UsageTracker,
} from "../claude/mod.ts";
import { createProcessControl, type ProcessControl, terminateTree } from "./process_control.ts";
import { ownedProcesses, type ProcessInfo } from "./process_table.ts";
import { validateCwd } from "./cwd.ts";

export interface CreateAgentInput {
  prompt: string;
  cwd: string;
  model?: string | undefined;
  effort?: Effort | undefined;
  name?: string | null | undefined;
  kind?: AgentKind | undefined;
  parent_id?: string | null | undefined;
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
  marker: string;
  proc: ClaudeProcess | null;
  startedAt: number;
  result: TurnResult | null;
  resultAt: number | null;
  stop: StopReason | null;
  stopping: Promise<void> | null;
  /** A process that printed its result but did not exit is terminated; the status stays. */
  lingerKill: Promise<void> | null;
  done: Promise<void>;
}

interface PendingStart {
  prompt: string;
  resume: string | null;
  permissionMode: PermissionMode;
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
  #queue: string[] = [];
  #pending = new Map<string, PendingStart>();
  #accepting = false;
  #shuttingDown = false;
  #watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(options: SupervisorOptions) {
    this.#store = options.store;
    this.#writer = options.writer;
    this.#bus = options.bus;
    this.#settings = options.settings;
    this.#daemonEnv = options.daemonEnv;
    this.#control = options.control ?? createProcessControl();
    this.#protectedDirs = options.protectedDirs ?? [];
    this.#allowedRoots = options.allowedRoots ?? null;
    this.#log = options.log ?? ((level, message, fields) => {
      if (level !== "info") console.error(JSON.stringify({ level, message, ...fields }));
    });
  }

  /** Agents with a live (or starting) process. */
  get runningCount(): number {
    return this.#runs.size;
  }

  get queuedCount(): number {
    return this.#queue.length;
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
    await Promise.all(
      [...markers].map((marker) =>
        terminateTree({
          control: this.#control,
          query: { marker, markerVar: AGENT_MARKER_VAR, excludePid: Deno.pid },
          graceMs: this.#settings.supervisor.cancelGraceMs,
          termAll: true,
        })
      ),
    );
    if (owned.length > 0) {
      this.#log("warn", "terminated orphaned agent processes", { count: owned.length });
    }

    const queued = this.#store.listAgentsByStatus(["queued"]);
    for (const agent of queued) {
      if (!this.#pending.has(agent.id)) this.#pending.set(agent.id, this.#pendingFromRow(agent));
      this.#queue.push(agent.id);
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
    const cwd = validateCwd(input.cwd, {
      protectedDirs: this.#protectedDirs,
      allowedRoots: this.#allowedRoots,
    });
    const agent = this.#store.insertAgent({
      id: newId(),
      name: input.name ?? null,
      prompt: input.prompt,
      cwd,
      model,
      effort,
      kind: input.kind ?? "standard",
      parent_id: input.parent_id ?? null,
    });
    this.#publishAgent(agent);
    this.#pending.set(agent.id, this.#pendingFromRow(agent));
    this.#queue.push(agent.id);
    this.#pump();
    return this.#store.getAgent(agent.id) ?? agent;
  }

  /**
   * Continues an agent's claude session (`--resume`) with a new prompt. Allowed from
   * awaiting_review and failed; a planner's follow-up with `execute` leaves plan mode.
   */
  async followUp(id: string, prompt: string, options: { execute?: boolean } = {}): Promise<Agent> {
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
    this.#pending.set(id, { prompt, resume: agent.session_id, permissionMode });
    this.#queue.push(id);
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
      this.#queue = this.#queue.filter((q) => q !== id);
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
    this.#store.deleteAgent(id);
    this.#writer.forgetAgent(id);
  }

  /** Resolves when the agent has no live run (its process and descendants are gone). */
  async settled(id: string): Promise<Agent> {
    for (;;) {
      const run = this.#runs.get(id);
      if (run) {
        await run.done;
        continue;
      }
      if (this.#queue.includes(id)) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      return this.#mustGet(id);
    }
  }

  /**
   * Graceful stop: no new work, every running agent is stopped through the cancel path and ends
   * `failed` with `daemon_shutdown`, every stored line is flushed. Queued agents stay queued.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.#accepting = false;
    clearInterval(this.#watchdog);
    const runs = [...this.#runs.values()];
    for (const run of runs) {
      this.#requestStop(run, {
        code: "daemon_shutdown",
        message: "The daemon was shut down while this agent was running",
        status: "failed",
      });
    }
    await Promise.all(runs.map((r) => r.done));
    await this.#writer.flush();
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
      permissionMode: agent.kind === "planner" ? "plan" : "bypassPermissions",
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
    while (
      this.#accepting && this.#queue.length > 0 &&
      this.#runs.size < this.#settings.supervisor.maxConcurrent
    ) {
      const id = this.#queue.shift()!;
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      const agent = this.#store.getAgent(id);
      if (!agent || agent.status !== "queued" || !pending) continue;
      this.#startRun(agent, pending);
    }
  }

  #startRun(agent: Agent, pending: PendingStart): void {
    let resolveDone!: () => void;
    const run: Run = {
      agentId: agent.id,
      marker: `${agent.id}.${randomHex(16)}`,
      proc: null,
      startedAt: Date.now(),
      result: null,
      resultAt: null,
      stop: null,
      stopping: null,
      lingerKill: null,
      done: new Promise((r) => (resolveDone = r)),
    };
    this.#runs.set(agent.id, run);
    this.#execute(run, agent, pending)
      .catch((err) =>
        this.#log("error", "agent run crashed", { agent: agent.id, error: String(err) })
      )
      .finally(() => {
        this.#runs.delete(agent.id);
        resolveDone();
        this.#pump();
      });
  }

  async #execute(run: Run, agent: Agent, pending: PendingStart): Promise<void> {
    const { claude } = this.#settings;
    // The marker is durable before the process exists, so a crash right after spawn still
    // leaves enough to find and stop it at the next start.
    this.#store.updateAgent(agent.id, { proc_marker: run.marker });
    let proc: ClaudeProcess;
    try {
      proc = spawnClaude({
        bin: claude.bin,
        args: buildClaudeArgs({
          model: agent.model,
          effort: agent.effort,
          permissionMode: pending.permissionMode,
          resume: pending.resume,
        }),
        cwd: agent.cwd,
        env: buildChildEnv({
          daemonEnv: this.#daemonEnv,
          settings: claude,
          effort: agent.effort,
          marker: run.marker,
        }),
        maxLineBytes: claude.maxLineBytes,
        stderrTailBytes: claude.stderrTailBytes,
      });
    } catch (err) {
      const failed = this.#store.transition(agent.id, "failed", {
        error_code: "spawn_failed",
        error_message: err instanceof Error ? err.message : String(err),
        finished_at: Date.now(),
        pending_prompt: null,
      });
      this.#publishAgent(failed);
      return;
    }
    run.proc = proc;
    const now = Date.now();
    const running = this.#store.transition(agent.id, "running", {
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
    });
    this.#publishAgent(running);
    // A cancel may have arrived while the row was being written.
    if (run.stop) this.#requestStop(run, run.stop);

    proc.sendUserMessage(pending.prompt).catch(() => {
      // The process died before reading its prompt; its exit status tells the story.
    });

    const tracker = new UsageTracker(running);
    tracker.startProcess();
    let lastAck: Promise<unknown> = Promise.resolve();
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
        if (result) {
          // Status changes only after the result line itself is durable.
          await ack;
          this.#onResult(run, result);
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

    const status = await proc.status;
    await proc.stderrDone;
    let storageError: unknown = null;
    try {
      await lastAck;
      await this.#writer.flush();
    } catch (err) {
      storageError = err;
    }
    if (run.stopping) await run.stopping;
    if (run.lingerKill) await run.lingerKill;
    // Whatever the agent left behind (background tools, servers) ends with it.
    await terminateTree({
      control: this.#control,
      query: { marker: run.marker, markerVar: AGENT_MARKER_VAR, excludePid: Deno.pid },
      graceMs: this.#settings.supervisor.cancelGraceMs,
      termAll: true,
    });
    this.#finish(run, status, storageError);
  }

  #onResult(run: Run, result: TurnResult): void {
    run.result = result;
    run.resultAt = Date.now();
    // One prompt per process: after its result, closing stdin lets the CLI exit.
    run.proc?.closeStdin();
    if (run.stop) return;
    const agent = this.#store.getAgent(run.agentId);
    if (agent?.status !== "running") return;
    if (result.isError) {
      const failed = this.#store.transition(run.agentId, "failed", {
        error_code: result.apiErrorStatus != null || result.terminalReason === "api_error"
          ? "api_error"
          : "turn_error",
        error_message: result.result ??
          (result.errors.join("; ") || `claude ended the turn with ${result.subtype}`),
        finished_at: Date.now(),
      });
      this.#publishAgent(failed);
    } else {
      const review = this.#store.transition(run.agentId, "awaiting_review", {});
      this.#publishAgent(review);
    }
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

  #finish(run: Run, status: Deno.CommandStatus, storageError: unknown): void {
    const agent = this.#store.getAgent(run.agentId);
    if (!agent) return; // deleted meanwhile
    const proc = run.proc!;
    const base: AgentPatch = {
      exit_code: status.signal ? null : status.code,
      exit_signal: status.signal ?? null,
      stderr_tail: proc.stderr.totalBytes > 0 ? proc.stderr.text() : null,
      stderr_truncated: proc.stderr.truncated,
    };
    if (agent.status !== "running") {
      this.#publishAgent(this.#store.updateAgent(run.agentId, base));
      return;
    }
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
    this.#publishAgent(next);
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
