/**
 * `startDaemon()`: socket safety checks → engine (lock, DB, crash reconciliation) → rpc.sock.
 * `main.ts` adds argv, the umask and signals around it; tests start it in-process.
 * @module
 */
import { type EngineSettings, type Env, resolvePaths } from "@hero/core/config";
import { type Engine, openEngine } from "@hero/core/engine";
import { createRpcApp } from "./app.ts";
import { EventHub, type EventHubOptions } from "./events.ts";
import { OPENRPC } from "./openrpc.ts";
import { claimSocketPath, prepareSocketDir, removeSocket } from "@hero/service/socket";
import { type Log, noLog } from "@hero/service/log";
import { createReadiness, type Readiness } from "./readiness.ts";

export interface DaemonOptions {
  env: Env;
  log?: Log;
  /** Engine setting overrides (tests). */
  tune?: (settings: EngineSettings) => void;
  /** Event stream limits (tests). */
  events?: Omit<EventHubOptions, "bus" | "store" | "log">;
}

export interface Daemon {
  engine: Engine;
  /** Whether agents can run here (claude binary, credential, root, upstream). */
  readiness: Readiness;
  events: EventHub;
  socketPath: string;
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

/** Starts the daemon. Throws (and leaves nothing behind) when the socket path is unsafe or taken. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const log = options.log ?? noLog;
  const paths = resolvePaths(options.env);
  const allowedRoots = allowedRootsFrom(options.env);
  prepareSocketDir(paths.socketDir);
  await claimSocketPath(paths.rpcSocket);
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
  let server: Deno.HttpServer<Deno.UnixAddr>;
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
    server = Deno.serve({
      transport: "unix",
      path: paths.rpcSocket,
      onListen() {},
      onError(err) {
        log("error", "request failed", { error: String(err) });
        return new Response("Internal error", { status: 500 });
      },
    }, app.fetch);
    Deno.chmodSync(paths.rpcSocket, 0o600);
  } catch (err) {
    events.close();
    await readiness.close();
    await engine.close();
    throw err;
  }
  log("info", "listening", { socket: paths.rpcSocket, recovery: engine.recovery });

  let stopping: Promise<void> | null = null;
  return {
    engine,
    events,
    readiness,
    socketPath: paths.rpcSocket,
    shutdown() {
      stopping ??= (async () => {
        events.close();
        await readiness.close();
        // Stop accepting; give in-flight requests a moment (a stalled stream must not block exit).
        await Promise.race([
          server.shutdown().catch(() => {}),
          new Promise((r) => setTimeout(r, 3_000)),
        ]);
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
