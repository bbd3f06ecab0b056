/** `system.*`: version, paths, limits and health. */
import {
  type ClaudeReadiness,
  MAX_BATCH,
  MAX_BODY_BYTES,
  MAX_DEPTH,
  MAX_LIST_PAGE,
  MAX_MESSAGES_PAGE,
  MAX_PROMPT_CHARS,
  type SystemHealth,
  type SystemInfo,
  VERSION,
} from "@hero/core/rpc";
import { SERVICE_NAME } from "@hero/core/config";
import type { RpcDeps } from "../deps.ts";
import { handlers } from "./define.ts";
import { backupNow } from "../../backup.ts";

function deniedByPermissions(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return true;
    }
  }
  return false;
}

/** A backup that could not be written (`backup_failed`). */
class BackupError extends Error {
  override name = "BackupError";
  readonly code = "backup_failed";
}

/**
 * The health report served by `system.health` and `GET /health`; `claude` is the given readiness,
 * else the last one finished (null before the first).
 */
export function healthReport(deps: RpcDeps, claude?: ClaudeReadiness | null): SystemHealth {
  const { store, writer, supervisor, settings } = deps.engine;
  let dbOk = true;
  let detail: string | null = null;
  let lastEventId = 0;
  try {
    store.schemaVersion();
    lastEventId = store.lastEventId();
  } catch (err) {
    dbOk = false;
    detail = `Cannot query the database: ${err instanceof Error ? err.message : String(err)}`;
  }
  const running = supervisor.runningCount;
  const maxConcurrent = settings.supervisor.maxConcurrent;
  const supervisorOk = running <= maxConcurrent;
  const eventsOk = deps.events.clients <= deps.events.maxClients;
  const storage = writer.status();
  // Degraded, not error: a failing disk must not get a healthy supervisor restarted (503).
  const storageOk = storage.state === "ok";
  return {
    status: !dbOk ? "error" : supervisorOk && eventsOk && storageOk ? "ok" : "degraded",
    service: SERVICE_NAME,
    version: VERSION,
    uptime_ms: Math.max(0, Date.now() - deps.startedAt),
    checks: {
      db: { ok: dbOk, detail },
      supervisor: {
        ok: supervisorOk,
        running,
        queued: supervisor.queuedCount,
        max_concurrent: maxConcurrent,
      },
      events: {
        ok: eventsOk,
        clients: deps.events.clients,
        dropped_total: deps.events.droppedTotal,
        last_event_id: lastEventId,
      },
      storage: { ok: storageOk, ...storage },
    },
    claude: claude !== undefined ? claude : deps.readiness?.current() ?? null,
  };
}

async function systemInfo(deps: RpcDeps): Promise<SystemInfo> {
  const { paths, settings, store } = deps.engine;
  return {
    name: SERVICE_NAME,
    version: VERSION,
    pid: Deno.pid,
    started_at: deps.startedAt,
    paths: {
      var_root: paths.varRoot,
      state_dir: paths.stateDir,
      db: paths.dbPath,
      socket_dir: paths.socketDir,
      rpc_socket: paths.rpcSocket,
      admin_socket: paths.adminSocket,
    },
    limits: {
      max_body_bytes: MAX_BODY_BYTES,
      max_batch: MAX_BATCH,
      max_depth: MAX_DEPTH,
      max_prompt_chars: MAX_PROMPT_CHARS,
      max_messages_page: MAX_MESSAGES_PAGE,
      max_list_page: MAX_LIST_PAGE,
      max_concurrent: settings.supervisor.maxConcurrent,
      max_sse_clients: deps.events.maxClients,
      sse_max_backlog_bytes: deps.events.maxBacklogBytes,
      sse_max_backlog_ms: deps.events.maxBacklogMs,
    },
    claude: {
      bin: settings.claude.bin,
      version: await deps.claudeVersion(),
      models: [...settings.claude.models],
      default_model: settings.claude.defaultModel,
      default_effort: settings.claude.defaultEffort,
    },
    db: { schema_version: store.schemaVersion(), sqlite_version: store.sqliteVersion() },
    sandbox: { mode: deps.engine.sandbox.mode, reason: deps.engine.sandbox.reason },
  };
}

export const systemHandlers = handlers({
  "system.info"(_params, deps) {
    return systemInfo(deps);
  },
  async "system.health"(params, deps) {
    const readiness = deps.readiness;
    if (!readiness) return healthReport(deps, null);
    return healthReport(
      deps,
      params.refresh ? await readiness.refresh() : await readiness.latest(),
    );
  },
  async "system.backup"(params, deps) {
    try {
      return await backupNow(deps.engine.store, params.path);
    } catch (err) {
      const why = deniedByPermissions(err)
        ? `Cannot back up the database to ${params.path}: the server may write only under ${deps.engine.paths.stateDir}`
        : err instanceof Error
        ? err.message
        : String(err);
      deps.log("error", "database backup failed", { error: why });
      throw new BackupError(
        why.startsWith("Cannot ") ? why : `Cannot back up the database: ${why}`,
        { cause: err },
      );
    }
  },
});
