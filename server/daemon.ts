/**
 * `startDaemon()`: socket safety checks → open-file limit and connection budget → engine (lock,
 * DB, crash reconciliation) → rpc.sock (own accept loop: capped, timed out, survives EMFILE).
 * `main.ts` adds argv, the umask and signals around it; tests start it in-process.
 * @module
 */
import {
  type EngineSettings,
  type Env,
  resolveEngineSettings,
  resolvePaths,
} from "@hero/core/config";
import { type Engine, openEngine } from "@hero/core/engine";
import { createRpcApp } from "./app.ts";
import { EventHub, type EventHubOptions } from "./events.ts";
import { OPENRPC } from "./openrpc.ts";
import { claimSocketPath, prepareSocketDir, removeSocket } from "@hero/service/socket";
import { type Log, noLog } from "@hero/service/log";
import { type HttpServer, type ServerStats, serveUnix } from "@hero/service/http_server";
import { raiseNofileLimit } from "@hero/service/nofile";
import { createReadiness, type Readiness } from "./readiness.ts";
import { resolveBackupSettings, startPeriodicBackup } from "./backup.ts";
import {
  type FdBudget,
  fdBudget,
  type ListenerSettings,
  resolveListenerSettings,
} from "./limits.ts";

/** The open-file limit assumed when it cannot be read (the common default soft limit). */
const ASSUMED_NOFILE = 1024;

export interface DaemonOptions {
  env: Env;
  log?: Log;
  /** Engine setting overrides (tests). */
  tune?: (settings: EngineSettings) => void;
  /** Event stream limits (tests). */
  events?: Omit<EventHubOptions, "bus" | "store" | "log">;
  /** Listener setting overrides (tests). */
  listener?: Partial<ListenerSettings>;
}

export interface Daemon {
  engine: Engine;
  /** Whether agents can run here (claude binary, credential, root, upstream). */
  readiness: Readiness;
  events: EventHub;
  socketPath: string;
  /** The file-descriptor budget behind the connection caps. */
  budget: FdBudget;
  /** rpc.sock's connection counters. */
  connections(): ServerStats;
  /** Stops accepting, ends event streams, stops agents (daemon_shutdown), closes the DB. */
  shutdown(): Promise<void>;
}

/** Comma-separated `HERO_ORCHESTRATOR_ALLOWED_ROOTS`, or null when unset. */
export function allowedRootsFrom(env: Env): string[] | null {
  const raw = env.HERO_ORCHESTRATOR_ALLOWED_ROOTS;
  if (!raw) return null;
  const roots = raw.split(",").map((r) => r.trim()).filter((r) => r.length > 0);
  for (const root of roots) {
    if (!root.startsWith("/")) {
      throw new RangeError(
        `Cannot read HERO_ORCHESTRATOR_ALLOWED_ROOTS: "${root}" is not an absolute path`,
      );
    }
  }
  return roots.length > 0 ? roots : null;
}

function versionProbe(bin: string): () => Promise<string | null> {
  let cached: Promise<string | null> | null = null;
  return function claudeVersion() {
    cached ??= (async () => {
      try {
        const out = await new Deno.Command(bin, {
          args: ["--version"],
          stdin: "null",
          stdout: "piped",
          stderr: "null",
          signal: AbortSignal.timeout(10_000),
        }).output();
        if (!out.success) return null;
        return new TextDecoder().decode(out.stdout).trim().split(/\s+/)[0] || null;
      } catch {
        return null;
      }
    })();
    return cached;
  };
}

/**
 * Raises the soft open-file limit to the hard one and sizes the listeners' caps so that a
 * connection flood leaves the agents' descriptors free (T28).
 */
async function connectionBudget(options: DaemonOptions, log: Log): Promise<FdBudget> {
  let nofile = ASSUMED_NOFILE;
  try {
    const limit = await raiseNofileLimit();
    nofile = limit.soft;
    if (limit.raised) log("info", "raised the open-file limit", { soft: limit.soft });
  } catch (err) {
    log("warn", "cannot read the open-file limit; assuming the usual default", {
      error: err instanceof Error ? err.message : String(err),
      assumed: ASSUMED_NOFILE,
    });
  }
  const settings = resolveEngineSettings(options.env);
  const budget = fdBudget({
    nofile,
    maxAgents: settings.supervisor.maxConcurrent + settings.shadows.maxConcurrent,
    // rpc.sock and proxy.sock
    sockets: 2,
    maxConnections: resolveListenerSettings(options.env).maxConnections,
  });
  if (budget.tight) {
    log("warn", "the open-file limit is low for the configured concurrency", {
      nofile,
      needed_for_agents: budget.reserved,
      fix: "raise LimitNOFILE (systemd) or ulimit -n, or lower HERO_ORCHESTRATOR_MAX_CONCURRENT",
    });
  }
  return budget;
}

/** Starts the daemon. Throws (and leaves nothing behind) when the socket path is unsafe or taken. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const log = options.log ?? noLog;
  const paths = resolvePaths(options.env);
  const allowedRoots = allowedRootsFrom(options.env);
  prepareSocketDir(paths.socketDir);
  await claimSocketPath(paths.rpcSocket);
  const budget = await connectionBudget(options, log);
  const backupSettings = resolveBackupSettings(options.env);
  const engine = await openEngine({
    env: options.env,
    allowedRoots,
    log: (level, message, fields) => log(level, message, fields),
    ...(options.tune ? { tune: options.tune } : {}),
  });
  const startedAt = Date.now();
  const events = new EventHub({ ...options.events, bus: engine.bus, store: engine.store, log });
  // Checked at start, in the background: a missing login shows before the first agent fails.
  const readiness = createReadiness({
    env: options.env,
    settings: engine.settings,
    apiKeyFile: engine.paths.apiKeyFile,
  });
  readiness.latest().then((r) => {
    if (!r.ok) {
      const failed = (["binary", "credential", "root", "upstream"] as const)
        .filter((k) => r[k].status === "fail")
        .map((k) => ({ check: k, detail: r[k].detail, fix: r[k].fix }));
      log("warn", "agents cannot run yet", { failed });
    }
  }, () => {});
  const listener = { ...resolveListenerSettings(options.env), ...options.listener };
  const maxConnections = Math.min(listener.maxConnections, budget.perSocket);
  let server: HttpServer;
  try {
    const app = createRpcApp({
      engine,
      events,
      openrpc: OPENRPC,
      startedAt,
      claudeVersion: versionProbe(engine.settings.claude.bin),
      readiness,
      log,
    });
    // Bind fails if anything appeared at the path since the check: nothing is replaced blindly.
    server = serveUnix({
      path: paths.rpcSocket,
      name: "rpc",
      handler: app.fetch,
      maxConnections,
      headerTimeoutMs: listener.headerTimeoutMs,
      idleTimeoutMs: listener.idleTimeoutMs,
      log,
      onError(err) {
        log("error", "request failed", { error: String(err) });
        return new Response("Internal error", { status: 500 });
      },
    });
    Deno.chmodSync(paths.rpcSocket, 0o600);
  } catch (err) {
    events.close();
    await readiness.close();
    await engine.close();
    throw err;
  }
  const backups = startPeriodicBackup(engine.store, backupSettings, log);
  log("info", "listening", {
    socket: paths.rpcSocket,
    recovery: engine.recovery,
    max_connections: maxConnections,
    nofile: budget.nofile,
    fds_reserved: budget.reserved,
  });

  let stopping: Promise<void> | null = null;
  return {
    engine,
    events,
    readiness,
    socketPath: paths.rpcSocket,
    budget,
    connections: () => server.stats(),
    shutdown() {
      stopping ??= (async () => {
        backups.stop();
        events.close();
        await readiness.close();
        // Stop accepting; give in-flight requests a moment (a stalled stream must not block exit).
        await server.shutdown(3_000).catch(() => {});
        try {
          await engine.close();
        } finally {
          removeSocket(paths.rpcSocket);
          log("info", "stopped");
        }
      })();
      return stopping;
    },
  };
}
