/**
 * `AgentRun`: one claude process of one agent, from spawn to finish. It owns the process's stdin
 * channel (one JSON object per line), the read loop (line → classify → usage → `MessageWriter`),
 * its stop (close stdin → SIGTERM → grace → tree kill) and its finish (the terminal row).
 * `ClaudeProcess` is the transport underneath; what happens after a result (close stdin so the
 * CLI exits, or keep it open for the next turn: a live session) is the caller's policy, not the
 * run's. A live run's further prompts and control requests go through its `session`
 * (`session.ts`).
 * @module
 */
import type { Agent } from "../models/mod.ts";
import type { EngineSettings } from "../config/mod.ts";
import type { AgentPatch, MessageWriter, Store } from "../store/mod.ts";
import {
  AGENT_MARKER_VAR,
  classifyLine,
  type ClaudeProcess,
  LineTooLongError,
  outlivesStdout,
  readAssistantError,
  readDelta,
  readInit,
  readRateLimit,
  readResult,
  resultFailure,
  spawnFailure,
  stdinLine,
  type TextDelta,
  type TurnResult,
  UsageTracker,
  userMessage,
} from "../claude/mod.ts";
import { type ProcessControl, terminateTree } from "./process_control.ts";
import type { StopReason, SupervisorLog, Turn } from "./types.ts";
import { retryWrite } from "./storage_retry.ts";
import { LiveSession, randomHex } from "./session.ts";
import { finishRow } from "./finish.ts";
import { awaitAtMost, spawnWhenDescriptorsFree } from "./spawn_wait.ts";
import { recordTurnUsage } from "./turn_usage.ts";

/** How long a run waits for `beforeSpawn` at most. */
const BEFORE_SPAWN_LIMIT_MS = 10_000;

/** Options of {@linkcode AgentRun}. */
export interface AgentRunOptions {
  agent: Agent;
  /** What the process is started with. */
  turn: Turn;
  store: Store;
  writer: MessageWriter;
  control: ProcessControl;
  settings: EngineSettings;
  log: SupervisorLog;
  /** Spawns the process (argv, environment, credentials); a throw ends the run `spawn_failed`. */
  launch(agent: Agent, turn: Turn, marker: string): ClaudeProcess;
  /** Awaited (at most 10 s) before the process is spawned. */
  beforeSpawn?: (() => Promise<void>) | null;
  /** Policy: close stdin once a result is stored, so the CLI exits after one prompt. */
  closeAfterResult: boolean;
  /** Commits the final row: `write` at once, or (at shutdown) in a transaction shared with others. */
  commitFinish(write: () => Agent | null): Promise<void> | void;
  /** The kind of credential the server sends upstream (null: none), to classify a 401. */
  credentialKind?: () => "api_key" | "bearer" | "oauth" | null;
  /** Called once the run is over: process and descendants gone, final row written. */
  onEnded(): void;
  /** The CLI reported a rejected `rate_limit_event` (its line is stored): pause the run. */
  onRateLimited?: (info: { resetAt: number | null; window: string | null }) => void;
  /** The daemon is stopping: a storage fault then ends a write's retries instead of waiting. */
  shuttingDown?: () => boolean;
  /**
   * Control requests claude sends (permission prompts: `onRequest`, called before the line is
   * stored) and withdraws (`onCancel`).
   */
  approvals?: {
    onRequest(run: AgentRun, line: Record<string, unknown>): void;
    onCancel(run: AgentRun, line: Record<string, unknown>): void;
  } | null;
  /** Live text as the model writes it (`stream_event` lines are shown, never stored). */
  onDelta?: ((agentId: string, delta: TextDelta) => void) | null;
}

/** One claude process of one agent: spawn, stdin, read loop, stop, finish. */
export class AgentRun {
  readonly agentId: string;
  readonly shadow: boolean;
  /** `HERO_ORCHESTRATOR_AGENT` of the process and everything it starts. */
  readonly marker: string;
  readonly startedAt: number = Date.now();
  /** Resolves once the run is over (after `onEnded`). */
  readonly done: Promise<void>;
  #o: AgentRunOptions;
  #resolveDone!: () => void;
  #proc: ClaudeProcess | null = null;
  #resultAt: number | null = null;
  /** Turns, prompts and control requests of the process while it is live. */
  readonly session: LiveSession;
  /** Permission prompts of this process waiting for a person: claude's request id → approval id. */
  readonly approvals = new Map<string, string>();
  #stop: StopReason | null = null;
  #stopping: Promise<void> | null = null;
  /** A process that printed its result but did not exit is terminated; the status stays. */
  #lingerKill: Promise<void> | null = null;
  /** A stop already proved nothing owned is left and the root exited: no exit-time sweep. */
  #treeSettled = false;

  constructor(options: AgentRunOptions) {
    this.#o = options;
    this.agentId = options.agent.id;
    this.shadow = options.agent.kind === "shadow";
    this.marker = `${options.agent.id}.${randomHex(16)}`;
    this.done = new Promise((r) => (this.#resolveDone = r));
    this.session = new LiveSession({
      agentId: this.agentId,
      store: options.store,
      closeAfterResult: options.closeAfterResult,
      proc: () => this.#proc,
      stopping: () => this.#stopping !== null || this.#lingerKill !== null,
      send: (message) => this.send(message),
      turnStarted: () => (this.#resultAt = null),
    });
  }

  /** The process, once spawned. */
  get proc(): ClaudeProcess | null {
    return this.#proc;
  }

  /** When the result line was stored (epoch ms), or null. */
  get resultAt(): number | null {
    return this.#resultAt;
  }

  /** Whether a stop (or a kill after the result) is under way. */
  get stopping(): boolean {
    return this.#stopping !== null;
  }

  get lingering(): boolean {
    return this.#lingerKill !== null;
  }

  /** Starts the run in the background; `done` resolves when it is over. */
  start(): void {
    this.#execute()
      .catch((err) =>
        this.#o.log("error", "agent run crashed", { agent: this.agentId, error: String(err) })
      )
      .finally(() => {
        this.#o.onEnded();
        this.#resolveDone();
      });
  }

  /**
   * Writes one JSON object as one line on the process's stdin (the only way anything reaches it).
   * Fails when stdin is closed or the process is gone; refuses anything but a plain object.
   */
  send(message: Record<string, unknown>): Promise<void> {
    let line: string;
    try {
      line = stdinLine(message);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.#proc) {
      return Promise.reject(new Error("Cannot write to claude: the process is not started"));
    }
    return this.#proc.sendLine(line);
  }

  /** Why the run is being stopped (cancel, pause, limit, …), or null. */
  get stopReason(): StopReason | null {
    return this.#stop;
  }

  /** Sets the stop reason unless one is set; the caller stops the process itself. */
  markStop(reason: StopReason): void {
    this.#stop ??= reason;
  }

  /** Stops the run: stdin closed, SIGTERM, grace, SIGKILL of everything it owns. */
  requestStop(reason: StopReason): void {
    if (!this.#stop) this.#stop = reason;
    if (this.#stopping || !this.#proc) return;
    const proc = this.#proc;
    this.#stopping = (async () => {
      await proc.closeStdin();
      const report = await terminateTree({
        control: this.#o.control,
        query: this.#query(proc),
        graceMs: this.#o.settings.supervisor.cancelGraceMs,
        signalRoot: (signal) => proc.signal(signal),
        sandboxed: proc.sandboxed,
      });
      if (report.survivors > 0) {
        this.#o.log("error", "processes survived SIGKILL", {
          agent: this.agentId,
          survivors: report.survivors,
        });
      }
    })();
  }

  /**
   * Hands the stop to a shared procedure (shutdown stops many runs together): `stopped` settles
   * once this run's tree is empty; `treeSettled` says nothing owned is left (no exit-time sweep).
   */
  stopWith(stopped: Promise<void>): void {
    this.#stopping ??= stopped;
  }

  markTreeSettled(): void {
    this.#treeSettled = true;
  }

  /** The process printed its result but did not exit: terminate it (the status stays). */
  killLingering(): void {
    const proc = this.#proc;
    if (this.#lingerKill || !proc) return;
    this.#lingerKill = terminateTree({
      control: this.#o.control,
      query: this.#query(proc),
      graceMs: this.#o.settings.supervisor.cancelGraceMs,
      signalRoot: (signal) => proc.signal(signal),
      sandboxed: proc.sandboxed,
    }).then(() => {});
  }

  #query(proc: ClaudeProcess | null) {
    return {
      marker: this.marker,
      markerVar: AGENT_MARKER_VAR,
      ...(proc ? { rootPid: proc.pid } : {}),
      excludePid: Deno.pid,
    };
  }

  async #execute(): Promise<void> {
    const { agent, store, turn } = this.#o;
    if (this.#o.beforeSpawn) await awaitAtMost(this.#o.beforeSpawn(), BEFORE_SPAWN_LIMIT_MS);
    // The marker is durable before the process exists, so a crash right after spawn still
    // leaves enough to find and stop it at the next start.
    await this.#durably(
      "record the process marker",
      () => store.updateAgent(agent.id, { proc_marker: this.marker }),
    );
    let proc: ClaudeProcess;
    try {
      const spawn = () =>
        this.#durably("spawn claude", () => this.#o.launch(agent, turn, this.marker));
      const wait = { stopped: () => this.#stop !== null, log: this.#o.log, agentId: agent.id };
      proc = await spawnWhenDescriptorsFree(spawn, wait);
    } catch (err) {
      // A cancel that stopped the wait for descriptors ends the agent cancelled, not failed.
      const stop = this.#stop?.status === "cancelled" ? this.#stop : null;
      const why = stop ? { error_code: stop.code, error_message: stop.message } : spawnFailure(err);
      await this.#durably(
        "record the failed spawn",
        () =>
          store.transition(agent.id, stop ? "cancelled" : "failed", {
            ...why, // invalid_cwd, claude_not_found, … rather than "spawn failed"
            finished_at: Date.now(),
            pending_prompt: null,
          }),
      );
      return;
    }
    this.#proc = proc;
    const now = Date.now();
    const running = await this.#durably(
      "record the start",
      () =>
        store.transition(agent.id, "running", {
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
          fork_session_id: null,
          fork_at: null,
        }),
    );
    // A cancel may have arrived while the row was being written.
    if (this.#stop) this.requestStop(this.#stop);

    this.send(userMessage(turn.prompt)).catch(() => {
      // The process died before reading its prompt; its exit status tells the story.
    });
    const { lastAck, ackError } = await this.#read(proc, running);
    this.session.abandon();
    if (!this.#stop && this.#resultAt === null) await this.#stopIfStdoutClosed(proc);

    const status = await proc.status;
    await proc.stderrDone;
    let storageError: unknown = null;
    try {
      await lastAck;
      await this.#o.writer.flush();
    } catch (err) {
      storageError = err;
    }
    storageError ??= ackError();
    if (this.#stopping) await this.#stopping;
    if (this.#lingerKill) await this.#lingerKill;
    // Whatever the agent left behind (background tools, servers) ends with it.
    if (!this.#treeSettled) {
      await terminateTree({
        control: this.#o.control,
        query: this.#query(null),
        graceMs: this.#o.settings.supervisor.cancelGraceMs,
        termAll: true,
      });
    }
    await this.#durably(
      "record the end of the run",
      () =>
        this.#o.commitFinish(() =>
          finishRow(this.#o.store, this.agentId, this.#proc!, this.#stop, status, storageError, {
            permissionMode: this.#o.turn.permissionMode,
          })
        ),
    );
  }

  /**
   * A run's own write (marker, start, result, end), retried through storage faults (disk full, a
   * lock held elsewhere) so none of them fails an agent or escapes as an unhandled rejection.
   */
  #durably<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    return retryWrite(fn, {
      what,
      agentId: this.agentId,
      monitor: this.#o.writer.monitor,
      minDelayMs: this.#o.settings.store.retryMinMs,
      maxDelayMs: this.#o.settings.store.retryMaxMs,
      abandon: () => this.#o.shuttingDown?.() ?? false,
      log: this.#o.log,
    });
  }

  /** Stdout ended before a result: a CLI still alive after a grace can never report again. */
  async #stopIfStdoutClosed(proc: ClaudeProcess): Promise<void> {
    const graceMs = this.#o.settings.supervisor.stdoutEofGraceMs;
    if (!(await outlivesStdout(proc.status, graceMs)) || this.#stop) return;
    this.#o.log("warn", "claude closed its stdout but kept running; stopping it", {
      agent: this.agentId,
      grace_ms: graceMs,
    });
    this.requestStop({
      code: "stdout_closed",
      message: `claude closed its stdout and was still running ${graceMs} ms later`,
      status: "failed",
    });
  }

  /**
   * The read loop: every stdout line is classified, its usage counted, and stored; a result moves
   * the status once its line is durable. Resolves at stdout's end with the last line's ack.
   */
  async #read(
    proc: ClaudeProcess,
    running: Agent,
  ): Promise<{ lastAck: Promise<unknown>; ackError: () => unknown }> {
    const { writer, agent } = this.#o;
    const tracker = new UsageTracker(running);
    tracker.startProcess();
    let ledgerBase = tracker.totals();
    let lastAck: Promise<unknown> = Promise.resolve();
    // A line the writer could not store (not a storage fault: those are retried); every ack is
    // observed so none becomes an unhandled rejection.
    let ackError: unknown = null;
    let assistantError: string | null = null; // claude's synthetic line before a failed result
    const reader = proc.lines.getReader();
    try {
      for (;;) {
        const { value: line, done } = await reader.read();
        if (done) break;
        const classified = classifyLine(line.bytes);
        const patch: AgentPatch = {};
        let result: TurnResult | null = null;
        let rateLimited: { resetAt: number | null; window: string | null } | null = null;
        const value = classified.value;
        if (classified.type === "stream_event") {
          // Partial-message frames are live only: the assembled `assistant` line is stored.
          const delta = value ? readDelta(value) : null;
          if (delta) this.#o.onDelta?.(this.agentId, delta);
          continue;
        }
        if (value?.type === "control_response" || value?.type === "command_lifecycle") {
          this.session.onLine(value);
        } else if (value?.type === "control_request") this.#o.approvals?.onRequest(this, value);
        else if (value?.type === "control_cancel_request") this.#o.approvals?.onCancel(this, value);
        if (value) {
          const init = readInit(value);
          if (init?.sessionId) patch.session_id = init.sessionId;
          const totals = tracker.observe(value);
          if (totals) Object.assign(patch, totals);
          assistantError = readAssistantError(value) ?? assistantError;
          result = readResult(value);
          if (result) {
            // An interrupted turn has no result text: the last answer stays the agent's result.
            if (result.result !== null || !this.session.interrupting) patch.result = result.result;
            if (result.sessionId) patch.session_id = result.sessionId;
          }
          const rl = readRateLimit(value);
          if (rl?.rejected) {
            rateLimited = { resetAt: rl.resetsAtMs, window: rl.rateLimitType };
            patch.rate_limit_resets_at = rl.resetsAtMs;
          }
        }
        const ack = writer.append({
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
          ledgerBase = recordTurnUsage(
            this.#o.store,
            this.agentId,
            ledgerBase,
            tracker.totals(),
            this.#o.log,
          );
          await this.#onResult(result, assistantError);
        }
        if (rateLimited) {
          await ack;
          // The CLI would wait silently for the reset and never print a result: the supervisor
          // stops it, keeps the session and continues it after the reset.
          this.#o.onRateLimited?.(rateLimited);
        }
        const full = writer.capacity();
        if (full) await full;
      }
    } catch (err) {
      if (err instanceof LineTooLongError) {
        this.requestStop({ code: "line_too_long", message: err.message, status: "failed" });
      } else if (!this.#stop) {
        this.#o.log("error", "reading claude output failed", {
          agent: agent.id,
          error: String(err),
        });
        this.requestStop({
          code: "cancelled",
          message: `Cannot read claude output: ${err instanceof Error ? err.message : String(err)}`,
          status: "failed",
        });
      }
      reader.cancel().catch(() => {});
    }
    return { lastAck, ackError: () => ackError };
  }

  async #onResult(result: TurnResult, assistantError: string | null): Promise<void> {
    const now = Date.now();
    this.#resultAt = now;
    const { continues, interrupted } = this.session.onResult(now);
    if (continues) return;
    if (this.#stop) return;
    const store = this.#o.store;
    await this.#durably("record the result", () => {
      const agent = store.getAgent(this.agentId);
      if (agent?.status !== "running" || this.#stop) return null;
      if (interrupted && result.isError && result.apiErrorStatus == null) {
        // Interrupt is not failure: the turn's output is stored, the session goes on.
        return store.transition(this.agentId, "awaiting_review", {});
      }
      if (result.isError) {
        const credential = this.#o.credentialKind?.();
        return store.transition(this.agentId, "failed", {
          ...resultFailure(result, { assistantError, credential }),
          finished_at: Date.now(),
        });
      }
      return store.transition(this.agentId, "awaiting_review", {});
    });
  }
}
