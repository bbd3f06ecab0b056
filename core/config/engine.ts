/** Engine settings (driver, supervisor, store) read from the environment. Pure: no I/O. */
import type { Env } from "./paths.ts";
import { intSetting } from "./setting.ts";
import { type HomeMcpSettings, resolveHomeMcpSettings } from "./home_mcp.ts";
import { type NotifySettings, resolveNotifySettings } from "./notify.ts";
import { type QuotaSettings, resolveQuotaSettings } from "./quota.ts";
import { type PriceTable, resolvePrices } from "./prices.ts";
import { resolveSandboxSettings, type SandboxSettings } from "./sandbox.ts";

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
  /** How long a process may live after its stdin closed past its last result before it is terminated. */
  resultExitGraceMs: number;
  /**
   * A live session (stdin kept open after a result) is closed after this long without a prompt;
   * 0 = no live sessions: stdin closes after every result.
   */
  sessionIdleMs: number;
  /** A permission prompt nobody answered within this is denied (never allowed). */
  approvalTimeoutMs: number;
  /** How long a process may live after closing stdout (no result yet) before it is stopped. */
  stdoutEofGraceMs: number;
}

export interface StoreSettings {
  /** Group commit: a batch is committed after at most this many ms ... */
  batchMaxDelayMs: number;
  /** After an idle spell (no commit for batchMaxDelayMs) the first line waits only this long. */
  batchIdleDelayMs: number;
  /** ... or this many rows, whichever comes first. */
  batchMaxRows: number;
  /** `busy_timeout` of the line writer's connection (its worker thread waits, not the event loop). */
  busyTimeoutMs: number;
  /**
   * How long a write on the event loop (an RPC write, the supervisor's own rows) waits for a lock
   * another connection holds before it fails with a typed `busy` error: the wait blocks the event
   * loop, so it is short.
   */
  writeWaitMs: number;
  /** Index thinking blocks for search (`HERO_ORCHESTRATOR_SEARCH_THINKING=1`). */
  searchThinking: boolean;
  /** First retry after a storage fault (disk full, lock held, I/O error); doubles per failure. */
  retryMinMs: number;
  /** Longest wait between two retries. */
  retryMaxMs: number;
  /** A storage fault lasting this long is reported as over its bound (agents to be paused). */
  faultBoundMs: number;
}

/** Which agents talk to the upstream API through the daemon's quota proxy. */
export const PROXY_SCOPES = ["shadows_only", "all", "off"] as const;
export type ProxyScope = typeof PROXY_SCOPES[number];

export interface ProxySettings {
  /**
   * `all` (default): every agent talks to the upstream through the proxy, so no child ever holds
   * the real credential; `shadows_only`: only shadow agents do (standard agents get the daemon's
   * credential in their environment); `off`: no proxy is started and every agent talks to the
   * upstream directly.
   */
  scope: ProxyScope;
  /**
   * Upstream base URL without a trailing slash: `HERO_ORCHESTRATOR_UPSTREAM_URL`, else
   * `ANTHROPIC_BASE_URL`, else the public API.
   */
  upstreamUrl: string;
  /** Log the first bytes of non-2xx upstream bodies (`HERO_ORCHESTRATOR_PROXY_LOG_ERRORS=1`). */
  logErrors: boolean;
  /** A proxy token expires this long after it was minted at the latest (≤ 24 h). */
  tokenTtlMs: number;
  /** Largest request body forwarded (the API's own limit is 32 MB). */
  maxRequestBytes: number;
  /** USD per million tokens per model family (`HERO_ORCHESTRATOR_PRICES`): a turn's live cost. */
  prices: PriceTable;
}

export const SHADOW_PURPOSES = ["naming", "commit"] as const;
export type ShadowPurpose = typeof SHADOW_PURPOSES[number];

export interface ShadowSettings {
  /** Which shadows run (`HERO_ORCHESTRATOR_SHADOWS`, comma separated, or `none`). */
  enabled: ShadowPurpose[];
  /** Model of shadow runs (`HERO_ORCHESTRATOR_SHADOW_MODEL`). */
  model: string;
  /** Shadow runs at once, on top of (never taking) the agents' slots. */
  maxConcurrent: number;
  /** Retries of a shadow turn after a transient failure. */
  retries: number;
  /** First retry delay; doubles per retry. */
  retryDelayMs: number;
  /** `agent.complete {commit: true}` waits this long for a commit shadow still running. */
  commitWaitMs: number;
}

export interface UsageSettings {
  /** OAuth usage poll interval (`HERO_ORCHESTRATOR_USAGE_POLL_MS`); 0 turns the poll off. */
  pollIntervalMs: number;
  /** The usage endpoint (`HERO_ORCHESTRATOR_USAGE_URL`), default `<upstream>/api/oauth/usage`. */
  pollUrl: string;
}

export interface EngineSettings {
  claude: ClaudeSettings;
  supervisor: SupervisorSettings;
  store: StoreSettings;
  proxy: ProxySettings;
  shadows: ShadowSettings;
  usage: UsageSettings;
  /** The home MCP of widget agents (`home_mcp`): router gateway and default cwds. */
  homeMcp: HomeMcpSettings;
  /** Who is told when an agent needs a person (webhook). */
  notify: NotifySettings;
  /** Pauses at the rate limit and at budgets, and their resume. */
  quota: QuotaSettings;
  /** How claude children are isolated (`HERO_ORCHESTRATOR_SANDBOX`). */
  sandbox: SandboxSettings;
  /**
   * Where agents run by default (`HERO_ORCHESTRATOR_ISOLATION`): `worktree` (a git worktree and
   * branch of their own, when the cwd is inside a git work tree), `none` (the cwd itself), or
   * `auto` (unset: `worktree` when the cwd is inside a non-bare git work tree, else `none`).
   */
  isolation: "auto" | "worktree" | "none";
}

function isolation(env: Env): EngineSettings["isolation"] {
  const raw = env.HERO_ORCHESTRATOR_ISOLATION;
  if (!raw || raw === "auto") return "auto";
  if (raw === "worktree" || raw === "none") return raw;
  throw new RangeError(
    `Cannot read HERO_ORCHESTRATOR_ISOLATION: expected worktree, none or auto, got "${raw}"`,
  );
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

function httpUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError(`Cannot read ${name}: "${raw}" is not a URL`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw new RangeError(
      `Cannot read ${name}: "${raw}" must be an http(s) URL without query or fragment`,
    );
  }
  if (url.username || url.password) {
    throw new RangeError(`Cannot read ${name}: credentials in the URL are not allowed`);
  }
  return url.href.replace(/\/+$/, "");
}

function proxyScope(env: Env): ProxyScope {
  const raw = env.HERO_ORCHESTRATOR_PROXY_SCOPE;
  if (!raw) return "all";
  if (!(PROXY_SCOPES as readonly string[]).includes(raw)) {
    throw new RangeError(
      `Cannot read HERO_ORCHESTRATOR_PROXY_SCOPE: "${raw}" is not one of ${
        PROXY_SCOPES.join(", ")
      }`,
    );
  }
  return raw as ProxyScope;
}

function shadowPurposes(env: Env): ShadowPurpose[] {
  const raw = env.HERO_ORCHESTRATOR_SHADOWS;
  if (raw === undefined || raw === "") return [...SHADOW_PURPOSES];
  if (raw.trim() === "none") return [];
  const names = list(env, "HERO_ORCHESTRATOR_SHADOWS") ?? [];
  for (const name of names) {
    if (!(SHADOW_PURPOSES as readonly string[]).includes(name)) {
      throw new RangeError(
        `Cannot read HERO_ORCHESTRATOR_SHADOWS: "${name}" is not one of ${
          SHADOW_PURPOSES.join(", ")
        } (or "none")`,
      );
    }
  }
  return [...new Set(names)] as ShadowPurpose[];
}

const DAY_MS = 24 * 60 * 60_000;

/** The public Anthropic API: the proxy's upstream unless configured otherwise. */
export const DEFAULT_UPSTREAM_URL = "https://api.anthropic.com";

export function resolveEngineSettings(env: Env): EngineSettings {
  const models = list(env, "HERO_ORCHESTRATOR_MODELS") ?? [...DEFAULT_MODELS];
  const defaultModel = env.HERO_ORCHESTRATOR_DEFAULT_MODEL || "claude-sonnet-4-6";
  if (!models.includes(defaultModel)) {
    throw new RangeError(
      `Cannot read HERO_ORCHESTRATOR_DEFAULT_MODEL: "${defaultModel}" is not in the model list`,
    );
  }
  // A gateway or local API configured for claude (ANTHROPIC_BASE_URL) is where the shadows'
  // requests must go too; otherwise every naming run fails against the public API.
  const upstreamUrl = env.HERO_ORCHESTRATOR_UPSTREAM_URL || !env.ANTHROPIC_BASE_URL
    ? httpUrl(env, "HERO_ORCHESTRATOR_UPSTREAM_URL", DEFAULT_UPSTREAM_URL)
    : httpUrl(env, "ANTHROPIC_BASE_URL", DEFAULT_UPSTREAM_URL);
  const maxRuntimeMs = intSetting(env, "HERO_ORCHESTRATOR_MAX_RUNTIME_MS", 4 * 60 * 60_000, 1);
  return {
    claude: {
      bin: env.HERO_ORCHESTRATOR_CLAUDE_BIN || "claude",
      models,
      defaultModel,
      defaultEffort: effort(env, "HERO_ORCHESTRATOR_DEFAULT_EFFORT", "medium"),
      maxRetries: intSetting(env, "HERO_ORCHESTRATOR_CLAUDE_MAX_RETRIES", 3),
      apiTimeoutMs: intSetting(env, "HERO_ORCHESTRATOR_API_TIMEOUT_MS", 120_000, 1),
      streamIdleTimeoutMs: intSetting(
        env,
        "HERO_ORCHESTRATOR_STREAM_IDLE_TIMEOUT_MS",
        120_000,
        10_000,
      ),
      maxLineBytes: intSetting(env, "HERO_ORCHESTRATOR_MAX_LINE_BYTES", 64 * 1024 * 1024, 1024),
      stderrTailBytes: intSetting(env, "HERO_ORCHESTRATOR_STDERR_TAIL_BYTES", 1024 * 1024, 1024),
      extraEnv: list(env, "HERO_ORCHESTRATOR_CHILD_ENV") ?? [],
    },
    supervisor: {
      maxConcurrent: intSetting(env, "HERO_ORCHESTRATOR_MAX_CONCURRENT", 8, 1),
      cancelGraceMs: intSetting(env, "HERO_ORCHESTRATOR_CANCEL_GRACE_MS", 5_000),
      idleTimeoutMs: intSetting(env, "HERO_ORCHESTRATOR_IDLE_TIMEOUT_MS", 30 * 60_000, 1),
      maxRuntimeMs,
      resultExitGraceMs: intSetting(env, "HERO_ORCHESTRATOR_RESULT_EXIT_GRACE_MS", 30_000),
      // 0: no live sessions (stdin closes after each result, as before).
      sessionIdleMs: intSetting(env, "HERO_ORCHESTRATOR_SESSION_IDLE_MS", 10 * 60_000),
      approvalTimeoutMs: intSetting(env, "HERO_ORCHESTRATOR_APPROVAL_TIMEOUT_MS", 30 * 60_000, 1),
      stdoutEofGraceMs: intSetting(env, "HERO_ORCHESTRATOR_STDOUT_EOF_GRACE_MS", 5_000),
    },
    store: {
      batchMaxDelayMs: intSetting(env, "HERO_ORCHESTRATOR_BATCH_MAX_DELAY_MS", 50),
      // 0: a line after a quiet spell (an agent's first) commits at once; the lines that arrive
      // while it commits in the writer's thread form the next batch without any window.
      batchIdleDelayMs: intSetting(env, "HERO_ORCHESTRATOR_BATCH_IDLE_DELAY_MS", 0),
      batchMaxRows: intSetting(env, "HERO_ORCHESTRATOR_BATCH_MAX_ROWS", 1000, 1),
      busyTimeoutMs: intSetting(env, "HERO_ORCHESTRATOR_BUSY_TIMEOUT_MS", 5_000, 5_000),
      writeWaitMs: intSetting(env, "HERO_ORCHESTRATOR_WRITE_WAIT_MS", 250, 0),
      searchThinking: env.HERO_ORCHESTRATOR_SEARCH_THINKING === "1",
      retryMinMs: intSetting(env, "HERO_ORCHESTRATOR_STORAGE_RETRY_MIN_MS", 100, 1),
      retryMaxMs: intSetting(env, "HERO_ORCHESTRATOR_STORAGE_RETRY_MAX_MS", 5_000, 1),
      faultBoundMs: intSetting(env, "HERO_ORCHESTRATOR_STORAGE_FAULT_BOUND_MS", 5 * 60_000),
    },
    proxy: {
      scope: proxyScope(env),
      upstreamUrl,
      logErrors: env.HERO_ORCHESTRATOR_PROXY_LOG_ERRORS === "1",
      // Spawn to terminal state, but never past the longest possible run, and never over 24 h.
      tokenTtlMs: Math.min(DAY_MS, maxRuntimeMs + 10 * 60_000),
      maxRequestBytes: 32 * 1024 * 1024,
      prices: resolvePrices(env),
    },
    shadows: {
      enabled: shadowPurposes(env),
      model: env.HERO_ORCHESTRATOR_SHADOW_MODEL || "claude-haiku-4-5",
      maxConcurrent: intSetting(env, "HERO_ORCHESTRATOR_SHADOW_MAX_CONCURRENT", 2, 1),
      retries: intSetting(env, "HERO_ORCHESTRATOR_SHADOW_RETRIES", 3),
      retryDelayMs: intSetting(env, "HERO_ORCHESTRATOR_SHADOW_RETRY_DELAY_MS", 500),
      commitWaitMs: 60_000,
    },
    usage: {
      pollIntervalMs: intSetting(env, "HERO_ORCHESTRATOR_USAGE_POLL_MS", 60 * 60_000),
      pollUrl: httpUrl(env, "HERO_ORCHESTRATOR_USAGE_URL", `${upstreamUrl}/api/oauth/usage`),
    },
    homeMcp: resolveHomeMcpSettings(env),
    notify: resolveNotifySettings(env),
    quota: resolveQuotaSettings(env),
    isolation: isolation(env),
    sandbox: resolveSandboxSettings(env),
  };
}
