/**
 * Connection limits of the daemon's listeners and the file-descriptor budget behind them (T28).
 *
 * Every open connection costs one descriptor; so does every pipe of every claude child. The
 * listeners' caps are sized so that a connection flood always leaves the agents' share free:
 * `reserve = BASE_FDS + FDS_PER_AGENT × (max concurrent agents + shadows)`, and the sockets
 * together get at most `soft RLIMIT_NOFILE − reserve` (split evenly, never below
 * `MIN_CONNECTIONS` each), capped by `HERO_ORCHESTRATOR_MAX_CONNECTIONS`.
 * @module
 */
import { type Env, intSetting } from "@hero/core/config";
import type { ConnectionLimits } from "@hero/service/http_server";

/** Descriptors the runtime, the database (db, -wal, -shm), the lock and the logs hold. */
export const BASE_FDS = 64;
/**
 * Per running agent: three pipes, its connections to proxy.sock and the proxy's upstream
 * connections, plus the short-lived `ps`/`kill`/`git` children of the sweeps.
 */
export const FDS_PER_AGENT = 16;
/** Each listener keeps at least this many connections whatever the budget. */
export const MIN_CONNECTIONS = 4;

/** Listener settings from the environment, before the budget. */
export interface ListenerSettings extends ConnectionLimits {
  /** `HERO_ORCHESTRATOR_MAX_CONNECTIONS`: per socket, default 256. */
  maxConnections: number;
}

/** `HERO_ORCHESTRATOR_MAX_CONNECTIONS`, `…_HEADER_TIMEOUT_MS`, `…_CONN_IDLE_TIMEOUT_MS`. */
export function resolveListenerSettings(env: Env): ListenerSettings {
  return {
    maxConnections: intSetting(env, "HERO_ORCHESTRATOR_MAX_CONNECTIONS", 256, 1),
    headerTimeoutMs: intSetting(env, "HERO_ORCHESTRATOR_HEADER_TIMEOUT_MS", 10_000, 100),
    idleTimeoutMs: intSetting(env, "HERO_ORCHESTRATOR_CONN_IDLE_TIMEOUT_MS", 30_000, 100),
  };
}

/** The budget worked out for one process. */
export interface FdBudget {
  /** Soft RLIMIT_NOFILE. */
  nofile: number;
  /** Held back for the runtime and the agents. */
  reserved: number;
  /** Connections per listener. */
  perSocket: number;
  /** The limit is too low for the configured concurrency: agents may fail to spawn. */
  tight: boolean;
}

/** Splits `nofile − reserve` between `sockets` listeners, capped by `maxConnections`. */
export function fdBudget(options: {
  nofile: number;
  maxAgents: number;
  sockets: number;
  maxConnections: number;
}): FdBudget {
  const reserved = BASE_FDS + FDS_PER_AGENT * options.maxAgents;
  const spare = options.nofile - reserved;
  const share = Math.floor(spare / Math.max(1, options.sockets));
  return {
    nofile: options.nofile,
    reserved,
    perSocket: Math.max(MIN_CONNECTIONS, Math.min(options.maxConnections, share)),
    tight: share < MIN_CONNECTIONS,
  };
}
