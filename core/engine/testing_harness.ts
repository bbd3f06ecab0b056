/** Shared set-up for engine tests: a temp state dir, the fake claude, a work dir. Tests only. */
import type { EngineSettings } from "../config/mod.ts";
import {
  FAKE_CLAUDE_BIN,
  type MockAnthropic,
  type MockAnthropicOptions,
  realCliDaemonEnv,
  startMockAnthropic,
} from "../testing/mod.ts";
import { type Engine, type EngineOptions, openEngine } from "./mod.ts";
import { listProcesses } from "../supervisor/process_table.ts";
import { createProcessControl, type ProcessControl } from "../supervisor/process_control.ts";
import { AGENT_MARKER_VAR } from "../claude/mod.ts";
import type { Agent } from "../models/mod.ts";

export interface Harness {
  engine: Engine;
  dir: string;
  cwd: string;
  env: Record<string, string>;
}

export function testEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: Deno.env.get("HOME") ?? dir,
    PATH: Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    PATH_VAR: `${dir}/var`,
    PATH_SOCKET: `${dir}/sockets`,
    HERO_ORCHESTRATOR_CLAUDE_BIN: FAKE_CLAUDE_BIN,
    IS_SANDBOX: "1",
    // Deterministic agent lists and no network: shadow tests turn shadows on themselves.
    HERO_ORCHESTRATOR_SHADOWS: "none",
    HERO_ORCHESTRATOR_USAGE_POLL_MS: "0",
    // One prompt per process unless a test is about live sessions (they set their own period).
    HERO_ORCHESTRATOR_SESSION_IDLE_MS: "0",
    ...extra,
  };
}

/**
 * An engine running the REAL claude CLI against the mock Anthropic API (started with `mock`
 * options, closed after), with its own `CLAUDE_CONFIG_DIR`; `env` is added to the daemon's.
 */
export async function withRealCliEngine(
  options: {
    mock?: MockAnthropicOptions;
    env?: Record<string, string>;
    tune?: (s: EngineSettings) => void;
    log?: EngineOptions["log"];
  },
  fn: (h: Harness, mock: MockAnthropic, configDir: string) => Promise<void>,
): Promise<void> {
  const mock = await startMockAnthropic(options.mock ?? {});
  const configDir = await Deno.makeTempDir({ prefix: "hero_claude_config_" });
  try {
    await withEngine({
      env: {
        ...realCliDaemonEnv({ mockUrl: mock.url, configDir }),
        DISABLE_TELEMETRY: "1",
        HERO_ORCHESTRATOR_CHILD_ENV: "DISABLE_TELEMETRY",
        ...options.env,
      },
      ...(options.tune ? { tune: options.tune } : {}),
      ...(options.log ? { log: options.log } : {}),
    }, (h) => fn(h, mock, configDir));
  } finally {
    await mock.close();
    await Deno.remove(configDir, { recursive: true }).catch(() => {});
  }
}

export async function withEngine(
  options: {
    tune?: (s: EngineSettings) => void;
    env?: Record<string, string>;
    log?: EngineOptions["log"];
    clock?: EngineOptions["clock"];
  },
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hero_engine_" });
  const cwd = `${dir}/work`;
  await Deno.mkdir(cwd);
  const env = testEnv(dir, options.env);
  const engine = await openEngine({
    env,
    tune(s) {
      s.supervisor.cancelGraceMs = 1_000;
      options.tune?.(s);
    },
    log: options.log ?? (() => {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  try {
    await fn({ engine, dir, cwd, env });
  } finally {
    await engine.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Live processes carrying any of the given agents' markers. */
export async function markedProcesses(agentIds: string[]): Promise<number[]> {
  const table = await listProcesses();
  return table.filter((p) =>
    !p.stat.startsWith("Z") &&
    agentIds.some((id) => p.argsAndEnv.includes(` ${AGENT_MARKER_VAR}=${id}.`))
  ).map((p) => p.pid);
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function waitForStatus(h: Harness, id: string, status: Agent["status"], timeoutMs = 15_000) {
  return waitFor(
    `agent ${id} to be ${status}`,
    () => {
      const a = h.engine.store.getAgent(id);
      return a?.status === status ? a : undefined;
    },
    timeoutMs,
  );
}

/** Counts `ps` snapshots (and how many ran at once) and `kill` runs. */
export function countingControl() {
  const inner = createProcessControl();
  const stats = { snapshots: 0, concurrent: 0, maxConcurrent: 0, killRuns: 0 };
  const control: ProcessControl = {
    async list() {
      stats.snapshots++;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, ++stats.concurrent);
      try {
        return await inner.list();
      } finally {
        stats.concurrent--;
      }
    },
    signal(signal, targets) {
      stats.killRuns++;
      return inner.signal(signal, targets);
    },
  };
  return {
    control,
    stats,
    reset: () => Object.assign(stats, { snapshots: 0, maxConcurrent: 0, killRuns: 0 }),
  };
}

/**
 * A clock tests move by hand: `now()` starts at the real time and only `advance` moves it;
 * timers fire (in due order) when `advance` passes them. Pauses of hours take milliseconds.
 */
export class ManualClock {
  #t: number;
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.now()) {
    this.#t = start;
  }

  now(): number {
    return this.#t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers set and not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    const end = this.#t + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (!first || entry[1].at < first[1].at)) first = entry;
      }
      if (!first) break;
      this.#timers.delete(first[0]);
      this.#t = Math.max(this.#t, first[1].at);
      first[1].fn();
    }
    this.#t = end;
  }
}
