import {
  type EngineSettings,
  type Env,
  type Paths,
  resolveEngineSettings,
  resolvePaths,
} from "../config/mod.ts";
import { EventBus } from "../events/mod.ts";
import { MessageWriter, openStore, StorageMonitor, type Store } from "../store/mod.ts";
import { acquireDaemonLock, type DaemonLock } from "./daemon_lock.ts";
import type { ProcessControl } from "./process_control.ts";
import { type RecoveryReport, Supervisor, type SupervisorOptions } from "./supervisor.ts";
import {
  CredentialSource,
  type ProxyServer,
  startProxy,
  stderrLog,
  UsagePoller,
  UsageService,
} from "../proxy/mod.ts";
import { createGitRunner, type GitRunner, ShadowManager } from "../shadow/mod.ts";

export interface EngineOptions {
  env: Env;
  /** Overrides applied on top of the settings resolved from `env`. */
  tune?: (settings: EngineSettings) => void;
  control?: ProcessControl;
  allowedRoots?: string[] | null;
  log?: SupervisorOptions["log"];
  /** git for the commit shadow (tests may inject one). */
  git?: GitRunner;
}

/** Everything the daemon owns, built in dependency order. */
export interface Engine {
  paths: Paths;
  settings: EngineSettings;
  lock: DaemonLock;
  store: Store;
  writer: MessageWriter;
  bus: EventBus;
  supervisor: Supervisor;
  recovery: RecoveryReport;
  /** The quota proxy on `paths.proxySocket`; null with `HERO_ORCHESTRATOR_PROXY_SCOPE=off`. */
  proxy: ProxyServer | null;
  /** Naming and commit shadows; `complete(id, {commit})` lives here. */
  shadows: ShadowManager;
  /** The OAuth usage poll. */
  poller: UsagePoller;
  /** `usage.get` reports. */
  usage: UsageService;
  /** Stops agents (daemon_shutdown), flushes, checkpoints the WAL, releases the lock. */
  close(): Promise<void>;
}

/** At shutdown, how long lines held for a storage fault are retried before they are given up. */
const SHUTDOWN_STORAGE_GRACE_MS = 3_000;

/**
 * Opens the engine: takes the daemon lock, opens and migrates the database, reconciles what a
 * previous run left behind, then starts the supervisor. Call before any socket accepts.
 */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  const paths = resolvePaths(options.env);
  const settings = resolveEngineSettings(options.env);
  options.tune?.(settings);
  Deno.mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const lock = acquireDaemonLock(paths.lockPath);
  const log = options.log ?? stderrLog;
  let store: Store | undefined;
  let proxy: ProxyServer | null = null;
  try {
    store = openStore(paths.dbPath, { busyTimeoutMs: settings.store.busyTimeoutMs });
    // No child of an earlier daemon may keep a working token (they are all stopped below).
    store.revokeAllProxyTokens();
    const proxyScope = settings.proxy.scope;
    const proxyConfigDir = `${paths.stateDir}/claude-proxied`;
    if (proxyScope !== "off") Deno.mkdirSync(proxyConfigDir, { recursive: true, mode: 0o700 });
    const bus = new EventBus();
    const monitor = new StorageMonitor({
      boundMs: settings.store.faultBoundMs,
      onChange(status) {
        if (status.state === "ok") {
          log("info", "storage takes writes again", { last_error: status.last_error });
        } else if (status.over_bound) {
          // Pausing agents at the bound needs the `paused` status (the quota issue).
          log("error", "storage has been failing past its bound", { ...status });
        } else {
          log("warn", "storage is failing; holding lines and retrying", { ...status });
        }
      },
    });
    const writer = new MessageWriter(store, {
      monitor,
      retryMinMs: settings.store.retryMinMs,
      retryMaxMs: settings.store.retryMaxMs,
      maxDelayMs: settings.store.batchMaxDelayMs,
      idleDelayMs: settings.store.batchIdleDelayMs,
      maxRows: settings.store.batchMaxRows,
      onCommit(batch) {
        for (const line of batch.lines) {
          bus.publish({
            kind: "message",
            id: line.event_id,
            agent_id: line.agent_id,
            seq: line.seq,
            ts: line.ts,
            type: line.type,
            subtype: line.subtype,
            parse_error: line.parse_error,
            bytes: line.bytes,
          });
        }
        for (const agent of batch.agents) {
          const id = batch.agentEventIds.get(agent.id);
          if (id !== undefined) bus.publish({ kind: "agent", id, agent });
        }
      },
    });
    const supervisor = new Supervisor({
      store,
      writer,
      bus,
      settings,
      daemonEnv: options.env,
      protectedDirs: [paths.stateDir, paths.socketDir],
      agentStateDir: `${paths.stateDir}/agents`,
      allowedRoots: options.allowedRoots ?? null,
      ...(options.control ? { control: options.control } : {}),
      ...(options.log ? { log: options.log } : {}),
      proxy: proxyScope === "off" ? null : {
        socketPath: paths.proxySocket,
        scope: proxyScope,
        configDir: proxyConfigDir,
        tokenTtlMs: settings.proxy.tokenTtlMs,
      },
    });
    const shadows = new ShadowManager({
      store,
      bus,
      supervisor,
      settings: settings.shadows,
      git: options.git ?? createGitRunner(options.env),
      log,
      tmpDir: `${paths.stateDir}/tmp`,
    });
    shadows.attach();
    shadows.recover();
    const recovery = await supervisor.recover();
    const credentials = new CredentialSource(options.env);
    if (proxyScope !== "off") {
      proxy = startProxy({
        socketPath: paths.proxySocket,
        upstreamUrl: settings.proxy.upstreamUrl,
        credentials,
        store,
        log,
        logErrors: settings.proxy.logErrors,
        maxRequestBytes: settings.proxy.maxRequestBytes,
        headersTimeoutMs: settings.claude.apiTimeoutMs + 60_000,
      });
    }
    const poller = new UsagePoller({
      store,
      credentials,
      url: settings.usage.pollUrl,
      intervalMs: settings.usage.pollIntervalMs,
      log,
    });
    poller.start();
    const openedProxy = proxy;
    const usage = new UsageService({
      store,
      poller,
      scope: proxyScope,
      upstream: settings.proxy.upstreamUrl,
      credential: () => credentials.info(),
      proxyStats: () => openedProxy?.stats() ?? null,
    });
    supervisor.start();
    let closed: Promise<void> | null = null;
    const openedStore = store;
    return {
      paths,
      settings,
      lock,
      store,
      writer,
      bus,
      supervisor,
      recovery,
      proxy,
      shadows,
      poller,
      usage,
      close() {
        closed ??= (async () => {
          // Lines held for a failing disk cannot wait past a short grace once the daemon stops.
          const giveUp = setTimeout(() => writer.giveUp(), SHUTDOWN_STORAGE_GRACE_MS);
          try {
            await supervisor.shutdown();
            await shadows.close();
            await poller.stop();
            await openedProxy?.close();
            await writer.close();
          } finally {
            clearTimeout(giveUp);
            try {
              openedStore.close();
            } finally {
              lock.release();
            }
          }
        })();
        return closed;
      },
    };
  } catch (err) {
    await proxy?.close();
    store?.close();
    lock.release();
    throw err;
  }
}
