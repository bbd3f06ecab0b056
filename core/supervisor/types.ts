/** Types and small helpers the supervisor's rooms share (options, hooks, turns, stop reasons). */
import type { GitRunner } from "../git/mod.ts";
import type { SandboxPolicy } from "../claude/mod.ts";
import type { Log, LogLevel } from "@hero/service/log";
import type { Agent, PauseReason } from "../models/mod.ts";
import type { EngineSettings, Env } from "../config/mod.ts";
import type { MessageWriter, Store } from "../store/mod.ts";
import type { PermissionMode, TextDelta } from "../claude/mod.ts";
import type { ProcessControl } from "./process_control.ts";
import type { SupervisorProxy } from "./launch.ts";

/** The supervisor's logger: the one `Log` of service/log.ts. */
export type SupervisorLog = Log;

/** What the next process of a queued agent is started with (read from its row at start). */
export interface Turn {
  prompt: string;
  /** The claude session to continue (`--resume`), or null for a new one. */
  resume: string | null;
  /** Continue `resume` under a new session id (`--fork-session`): a fork's first turn. */
  fork?: boolean;
  /** With `fork`: the chain entry of `resume` kept (`--resume-session-at`); null keeps it all. */
  forkAt?: string | null;
  permissionMode: PermissionMode;
  /** A spoken turn (not kept across a daemon restart). */
  voice: boolean;
}

/** Why a run was stopped. */
export type StopCode =
  | "cancelled"
  | "idle_timeout"
  | "max_runtime"
  | "line_too_long"
  | "rate_limited"
  | "daemon_shutdown"
  | "stdout_closed"
  | "paused";

export interface StopReason {
  code: StopCode;
  message: string;
  status: "cancelled" | "failed" | "paused";
  resetsAt?: number | null;
  /** A pause's fields, written with the `paused` row (again: storing them early may have failed). */
  pause?: PauseFields;
}

/** What a pause stores on the agent's row. */
export interface PauseFields {
  pause_reason: PauseReason;
  pause_window: string | null;
  resume_at: number | null;
  paused_at: number;
}

/** Why and until when a run is being paused (stored on the row before the process is stopped). */
export interface PauseRequest {
  reason: PauseReason;
  message: string;
  /** The rate-limit window that rejected (five_hour, seven_day, …), or null. */
  window?: string | null;
  /** When the pause ends by itself (a rate-limit reset), or null: only a person resumes it. */
  resumeAt?: number | null;
}

/** Time for pauses and their resume: injectable so hours of pause are tested in milliseconds. */
export interface QuotaClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const SYSTEM_CLOCK: QuotaClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

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
  /** Live text of running agents (never stored); see `AgentRunOptions.onDelta`. */
  onDelta?: ((agentId: string, delta: TextDelta) => void) | null;
  /** The store; its `onCommit` publishes every change (the supervisor never publishes itself). */
  store: Store;
  writer: MessageWriter;
  settings: EngineSettings;
  /** The daemon's environment; only the allow-list reaches children. */
  daemonEnv: Env;
  /** Directories an agent's cwd may never be inside (state, sockets, DB). */
  protectedDirs?: string[];
  /** When set, an agent's canonical cwd must be inside one of these. */
  allowedRoots?: string[] | null;
  control?: ProcessControl;
  /** The quota proxy, when one runs (with its token minting). */
  proxy?: SupervisorProxy | null;
  /**
   * Directory of the agents' private state (`<state dir>/agents`): per-agent MCP configs. Agents
   * with a home MCP cannot start without it.
   */
  agentStateDir?: string | null;
  /**
   * Credential variables for a child that talks to the upstream directly (not through the proxy),
   * e.g. `ANTHROPIC_API_KEY` from the stored key file. Read at every spawn.
   */
  directCredentialEnv?: () => Record<string, string>;
  /** The kind of credential the server sends upstream (null: none): tells a 401's cause. */
  credentialKind?: () => "api_key" | "bearer" | "oauth" | null;
  /** The clock of pauses and resumes (default: the system clock). */
  clock?: QuotaClock;
  /** `<state dir>/worktrees`: isolated agents' worktrees; without it, every agent runs in its cwd. */
  worktreeDir?: string | null;
  /** git (a clean environment); the default spawns `git` with the daemon's PATH and HOME. */
  git?: GitRunner;
  /** Run every claude child in this bubblewrap sandbox; null or absent: unsandboxed. */
  sandbox?: SandboxPolicy | null;
  /** The name an agent created without one gets at once (default: the prompt's first words). */
  titleFor?: (prompt: string) => string;
  log?: SupervisorLog;
}

/** The default log: warnings and errors as JSON lines on stderr. */
export function stderrWarnings(
  level: LogLevel,
  message: string,
  fields?: Record<string, unknown>,
): void {
  if (level === "warn" || level === "error") {
    console.error(JSON.stringify({ level, message, ...fields }));
  }
}

/** Calls hook `name`; a throwing or rejecting hook is logged, never propagated. */
export function callHook(
  hooks: SupervisorHooks,
  name: keyof SupervisorHooks,
  log: SupervisorLog,
  args: unknown[],
): Promise<void> | void {
  const fn = hooks[name] as ((...a: unknown[]) => unknown) | undefined;
  const fail = (err: unknown) => log("error", `the ${name} hook failed`, { error: String(err) });
  try {
    const out = fn?.apply(hooks, args);
    if (out instanceof Promise) return out.then(() => {}, fail);
  } catch (err) {
    fail(err);
  }
}
