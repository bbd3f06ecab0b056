/** Engine settings (driver, supervisor, store) read from the environment. Pure: no I/O. */
import type { Env } from "./paths.ts";

export const DEFAULT_MODELS = ["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"] as const;
export const EFFORTS = ["none", "low", "medium", "high", "xhigh", "max"] as const;
export type Effort = typeof EFFORTS[number];

export interface ClaudeSettings {
  /** Binary to spawn: `HERO_ORCHESTRATOR_CLAUDE_BIN`, else `claude` on PATH. */
  bin: string;
  /** Accepted model ids (`HERO_ORCHESTRATOR_MODELS`, comma separated). */
  models: string[];
  defaultModel: string;
  defaultEffort: Effort;
  /** Passed to the CLI as CLAUDE_CODE_MAX_RETRIES. */
  maxRetries: number;
  /** Passed to the CLI as API_TIMEOUT_MS. */
  apiTimeoutMs: number;
  /** Passed to the CLI as CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS. */
  streamIdleTimeoutMs: number;
  /** A stdout line longer than this fails the agent with `line_too_long`. */
  maxLineBytes: number;
  /** How much of the end of stderr is kept. */
  stderrTailBytes: number;
  /** Extra environment variable names (beyond the built-in allow-list) passed to children. */
  extraEnv: string[];
}

export interface SupervisorSettings {
  maxConcurrent: number;
  cancelGraceMs: number;
  idleTimeoutMs: number;
  maxRuntimeMs: number;
  /** How long a process may live after printing its final result before it is terminated. */
  resultExitGraceMs: number;
}

export interface StoreSettings {
  /** Group commit: a batch is committed after at most this many ms ... */
  batchMaxDelayMs: number;
  /** ... or this many rows, whichever comes first. */
  batchMaxRows: number;
  busyTimeoutMs: number;
}

export interface EngineSettings {
  claude: ClaudeSettings;
  supervisor: SupervisorSettings;
  store: StoreSettings;
}

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Cannot read ${name}: expected an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function list(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  return raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

function effort(env: Env, name: string, fallback: Effort): Effort {
  const raw = env[name];
  if (!raw) return fallback;
  if (!(EFFORTS as readonly string[]).includes(raw)) {
    throw new RangeError(`Cannot read ${name}: "${raw}" is not one of ${EFFORTS.join(", ")}`);
  }
  return raw as Effort;
}

export function resolveEngineSettings(env: Env): EngineSettings {
  const models = list(env, "HERO_ORCHESTRATOR_MODELS") ?? [...DEFAULT_MODELS];
  const defaultModel = env.HERO_ORCHESTRATOR_DEFAULT_MODEL || "claude-sonnet-4-6";
  if (!models.includes(defaultModel)) {
    throw new RangeError(
      `Cannot read HERO_ORCHESTRATOR_DEFAULT_MODEL: "${defaultModel}" is not in the model list`,
    );
  }
  return {
    claude: {
      bin: env.HERO_ORCHESTRATOR_CLAUDE_BIN || "claude",
      models,
      defaultModel,
      defaultEffort: effort(env, "HERO_ORCHESTRATOR_DEFAULT_EFFORT", "medium"),
      maxRetries: int(env, "HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES", 3),
      apiTimeoutMs: int(env, "HERO_ORCHESTRATOR_API_TIMEOUT_MS", 120_000, 1),
      streamIdleTimeoutMs: int(env, "HERO_ORCHESTRATOR_STREAM_IDLE_TIMEOUT_MS", 120_000, 10_000),
      maxLineBytes: int(env, "HERO_ORCHESTRATOR_MAX_LINE_BYTES", 64 * 1024 * 1024, 1024),
      stderrTailBytes: int(env, "HERO_ORCHESTRATOR_STDERR_TAIL_BYTES", 1024 * 1024, 1024),
      extraEnv: list(env, "HERO_ORCHESTRATOR_CHILD_ENV") ?? [],
    },
    supervisor: {
      maxConcurrent: int(env, "HERO_ORCHESTRATOR_MAX_CONCURRENT", 8, 1),
      cancelGraceMs: int(env, "HERO_ORCHESTRATOR_CANCEL_GRACE_MS", 5_000),
      idleTimeoutMs: int(env, "HERO_ORCHESTRATOR_IDLE_TIMEOUT_MS", 30 * 60_000, 1),
      maxRuntimeMs: int(env, "HERO_ORCHESTRATOR_MAX_RUNTIME_MS", 4 * 60 * 60_000, 1),
      resultExitGraceMs: int(env, "HERO_ORCHESTRATOR_RESULT_EXIT_GRACE_MS", 30_000),
    },
    store: {
      batchMaxDelayMs: int(env, "HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS", 50),
      batchMaxRows: int(env, "HERO_ORCHESTRATOR_BATCH_MAX_ROWS", 1000, 1),
      busyTimeoutMs: int(env, "HERO_ORCHESTRATOR_BUSY_TIMEOUT_MS", 5_000, 5_000),
    },
  };
}
