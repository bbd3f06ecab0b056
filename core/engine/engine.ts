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
import { CommitSequencer, EventBus } from "../events/mod.ts";
import {
  MessageWriter,
  openStore,
  SearchIndexer,
  StorageMonitor,
  type Store,
} from "../store/mod.ts";
import {
  acquireDaemonLock,
  type DaemonLock,
  type ProcessControl,
  type QuotaClock,
  type RecoveryReport,
  Supervisor,
} from "../supervisor/mod.ts";
import { createLogger, type Log } from "@hero/service/log";
import { CredentialSource, mintProxyToken, type ProxyServer, startProxy } from "../proxy/mod.ts";
import { UsagePoller, UsageService } from "../usage/mod.ts";
import { createGitRunner, type GitRunner } from "../git/mod.ts";
import { ShadowManager } from "../shadow/mod.ts";
import { startWebhookNotifier, type WebhookNotifier } from "../notify/mod.ts";
import { claudeConfigDir, SessionLedger } from "../ledger/mod.ts";

export interface EngineOptions {
  env: Env;
  /** Overrides applied on top of the settings resolved from `env`. */
  tune?: (settings: EngineSettings) => void;
  control?: ProcessControl;
  allowedRoots?: string[] | null;
  log?: Log;
  /** git for worktrees and the commit shadow (tests may inject one). */
  git?: GitRunner;
  /** The clock of pauses and resumes (tests run hours of pause in milliseconds). */
  clock?: QuotaClock;
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
  /** The upstream credential in force (environment, stored API key, or claude's login). */
  credentials: CredentialSource;
  /** Webhook notifications (`HERO_ORCHESTRATOR_NOTIFY_URL`); null when none is configured. */
  notifier: WebhookNotifier | null;
  /** Keeps the full-text index up with committed lines (and backfills it). */
  search: SearchIndexer;
  /** Imports Claude Code session files of the daemon's claude config dir (`session.import`). */
  ledger: SessionLedger;
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
  const sandbox = await probeSandbox(settings.sandbox);
  Deno.mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const lock = acquireDaemonLock(paths.lockPath);
  const log = options.log ?? createLogger();
  if (sandbox.mode === "off" && settings.sandbox.requested !== "off") {
    log("warn", "agents run WITHOUT a sandbox: they can read and write everything this user can", {
      reason: sandbox.reason,
    });
  }
  let store: Store | undefined;
  let openedWriter: MessageWriter | undefined;
  let proxy: ProxyServer | null = null;
  try {
    const bus = new EventBus();
    // The line writer commits in its own thread: the sequencer keeps events in id order.
    const sequencer = new CommitSequencer(bus);
    // Every committed change is published from here, after its COMMIT (the ack rule).
    store = openStore(paths.dbPath, {
      busyTimeoutMs: settings.store.busyTimeoutMs,
      writeWaitMs: settings.store.writeWaitMs,
      onCommit: sequencer.changes,
    });
    // No child of an earlier daemon may keep a working token (they are all stopped below).
    store.revokeAllProxyTokens();
    const proxyScope = settings.proxy.scope;
    const proxyConfigDir = `${paths.stateDir}/claude-proxied`;
    if (proxyScope !== "off") Deno.mkdirSync(proxyConfigDir, { recursive: true, mode: 0o700 });
    let supervisorRef: Supervisor | null = null;
    const monitor = new StorageMonitor({
      boundMs: settings.store.faultBoundMs,
      onChange(status) {
        if (status.state === "ok") {
          log("info", "storage takes writes again", { last_error: status.last_error });
        } else if (status.over_bound) {
          log("error", "storage has been failing past its bound; pausing agents", { ...status });
        } else {
          log("warn", "storage is failing; holding lines and retrying", { ...status });
        }
        // Past the bound the agents pause (reason storage); recovery continues them.
        supervisorRef?.quota.storageChanged(status);
      },
    });
    const search = new SearchIndexer(store, {
      thinking: settings.store.searchThinking,
      onError: (err) => log("warn", "search indexing failed", { error: String(err) }),
    });
    const writer = openedWriter = new MessageWriter(store, {
      monitor,
      busyTimeoutMs: settings.store.busyTimeoutMs,
      onBatch: sequencer.onBatch,
      retryMinMs: settings.store.retryMinMs,
      retryMaxMs: settings.store.retryMaxMs,
      maxDelayMs: settings.store.batchMaxDelayMs,
      idleDelayMs: settings.store.batchIdleDelayMs,
      maxRows: settings.store.batchMaxRows,
      onCommit(batch) {
        search.notify();
        sequencer.batch(batch);
      },
    });
    // The worker thread and its connection before any line can arrive.
    await writer.ready();
    const credentials = new CredentialSource(options.env, { apiKeyFile: paths.apiKeyFile });
    const git = options.git ?? createGitRunner(options.env);
    const supervisor = new Supervisor({
      store,
      writer,
      git,
      worktreeDir: `${paths.stateDir}/worktrees`,
      settings,
      onDelta: (agentId, d) =>
        bus.publishDelta({
          agent_id: agentId,
          message_id: d.messageId,
          index: d.index,
          kind: d.kind,
          text: d.text,
          parent_tool_use_id: d.parentToolUseId,
        }),
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
      ...(options.clock ? { clock: options.clock } : {}),
      // A child that talks to the upstream itself uses a stored API key only when it is the
      // credential in force (the proxy injects it for proxied children, who never see it).
      directCredentialEnv(): Record<string, string> {
        const credential = credentials.get();
        return credential !== null && credential.source === paths.apiKeyFile
          ? { ANTHROPIC_API_KEY: credential.value }
          : {};
      },
      credentialKind: () => credentials.get()?.kind ?? null,
      proxy: proxyScope === "off" ? null : {
        socketPath: paths.proxySocket,
        scope: proxyScope,
        configDir: proxyConfigDir,
        tokenTtlMs: settings.proxy.tokenTtlMs,
        mintToken: mintProxyToken,
      },
    });
    supervisorRef = supervisor;
    const shadows = new ShadowManager({
      store,
      supervisor,
      settings: settings.shadows,
      git,
      log,
      tmpDir: `${paths.stateDir}/tmp`,
    });
    shadows.attach();
    shadows.recover();
    const recovery = await supervisor.recover();
    if (proxyScope !== "off") {
      proxy = startProxy({
        socketPath: paths.proxySocket,
        upstreamUrl: settings.proxy.upstreamUrl,
        credentials,
        store,
        log,
        logErrors: settings.proxy.logErrors,
        maxRequestBytes: settings.proxy.maxRequestBytes,
        prices: settings.proxy.prices,
        headersTimeoutMs: settings.claude.apiTimeoutMs + 60_000,
        onRateLimitRejected: (agentId, info) => supervisor.quota.pauseForRateLimit(agentId, info),
        onBudgetReached: (agentId, reason) => supervisor.quota.pauseForBudget(agentId, reason),
      });
      const live = proxy;
      supervisor.quota.setLiveCost((a) => live.turnCostUsd({ ...a, agent_id: a.id }));
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
      admission: () => supervisor.quota.admission,
      dailyBudgetUsd: settings.quota.dailyBudgetUsd,
      cwdDailyBudgetsUsd: settings.quota.cwdDailyBudgetsUsd,
    });
    const notifyUrl = settings.notify.url;
    const opened = store;
    const notifier = notifyUrl === null ? null : startWebhookNotifier({
      bus,
      settings: { ...settings.notify, url: notifyUrl },
      log,
      getAgent: (id) => opened.getAgent(id),
    });
    const ledger = new SessionLedger({
      store,
      configDir: claudeConfigDir({ get: (name) => options.env[name] }),
      maxLineBytes: settings.claude.maxLineBytes,
      onCommit: () => search.notify(),
    });
    supervisor.start();
    search.start();
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
      notifier,
      credentials,
      search,
      ledger,
      sandbox,
      close() {
        closed ??= (async () => {
          // Lines held for a failing disk cannot wait past a short grace once the daemon stops.
          const giveUp = setTimeout(() => writer.giveUp(), SHUTDOWN_STORAGE_GRACE_MS);
          try {
            await supervisor.shutdown();
            // Rows the shutdown itself wrote get a short grace to reach the webhook.
            await notifier?.close();
            await shadows.close();
            await poller.stop();
            await openedProxy?.close();
            await writer.close();
            search.close();
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
    // Its worker thread would keep the process alive.
    await openedWriter?.close().catch(() => {});
    store?.close();
    lock.release();
    throw err;
  }
}
