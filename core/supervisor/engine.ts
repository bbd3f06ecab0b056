import {
  daemonClaudeConfig,
  type EngineSettings,
  type Env,
  type Paths,
  resolveEngineSettings,
  resolvePaths,
  sandboxHiddenPaths,
} from "../config/mod.ts";
import { probeSandbox, type SandboxStatus } from "../claude/mod.ts";
import { EventBus } from "../events/mod.ts";
import { MessageWriter, openStore, type Store } from "../store/mod.ts";
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
  /** The sandbox of claude children in force (decided once at start) and why. */
  sandbox: SandboxStatus;
  /** `usage.get` reports. */
  usage: UsageService;
  /** Stops agents (daemon_shutdown), flushes, checkpoints the WAL, releases the lock. */
  close(): Promise<void>;
}

/**
 * Opens the engine: takes the daemon lock, opens and migrates the database, reconciles what a
 * previous run left behind, then starts the supervisor. Call before any socket accepts.
 */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  const paths = resolvePaths(options.env);
  const settings = resolveEngineSettings(options.env);
  options.tune?.(settings);
  const sandbox = await probeSandbox(settings.sandbox);
  Deno.mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const lock = acquireDaemonLock(paths.lockPath);
  const log = options.log ?? stderrLog;
  if (sandbox.mode === "off" && settings.sandbox.requested !== "off") {
    log("warn", "agents run WITHOUT a sandbox: they can read and write everything this user can", {
      reason: sandbox.reason,
    });
  }
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
    const writer = new MessageWriter(store, {
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
      sandbox: sandbox.mode === "bwrap"
        ? {
          bin: settings.sandbox.bin,
          hide: sandboxHiddenPaths(options.env, paths),
          hideWhenProxied: daemonClaudeConfig(options.env),
        }
        : null,
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
      sandbox,
      close() {
        closed ??= (async () => {
          try {
            await supervisor.shutdown();
            await shadows.close();
            await poller.stop();
            await openedProxy?.close();
            await writer.close();
          } finally {
            openedStore.close();
            lock.release();
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
