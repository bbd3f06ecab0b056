import {
  type EngineSettings,
  type Env,
  type Paths,
  resolveEngineSettings,
  resolvePaths,
} from "../config/mod.ts";
import { EventBus } from "../events/mod.ts";
import { MessageWriter, openStore, type Store } from "../store/mod.ts";
import { acquireDaemonLock, type DaemonLock } from "./daemon_lock.ts";
import type { ProcessControl } from "./process_control.ts";
import { type RecoveryReport, Supervisor, type SupervisorOptions } from "./supervisor.ts";

export interface EngineOptions {
  env: Env;
  /** Overrides applied on top of the settings resolved from `env`. */
  tune?: (settings: EngineSettings) => void;
  control?: ProcessControl;
  allowedRoots?: string[] | null;
  log?: SupervisorOptions["log"];
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
  Deno.mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const lock = acquireDaemonLock(paths.lockPath);
  let store: Store | undefined;
  try {
    store = openStore(paths.dbPath, { busyTimeoutMs: settings.store.busyTimeoutMs });
    const bus = new EventBus();
    const writer = new MessageWriter(store, {
      maxDelayMs: settings.store.batchMaxDelayMs,
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
      allowedRoots: options.allowedRoots ?? null,
      ...(options.control ? { control: options.control } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    const recovery = await supervisor.recover();
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
      close() {
        closed ??= (async () => {
          try {
            await supervisor.shutdown();
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
    store?.close();
    lock.release();
    throw err;
  }
}
