/** Contract types of `system.*`: info, health (with readiness and storage), backups. */
import { z } from "zod";
import { Effort } from "../models/mod.ts";

export const SystemInfo = z.object({
  name: z.string(),
  version: z.string(),
  pid: z.number().int(),
  started_at: z.number().int().describe("Unix epoch milliseconds"),
  paths: z.object({
    var_root: z.string(),
    state_dir: z.string(),
    db: z.string(),
    socket_dir: z.string(),
    rpc_socket: z.string(),
    admin_socket: z.string(),
  }),
  limits: z.object({
    max_body_bytes: z.number().int(),
    max_batch: z.number().int(),
    max_depth: z.number().int(),
    max_prompt_chars: z.number().int(),
    max_messages_page: z.number().int(),
    max_list_page: z.number().int(),
    max_concurrent: z.number().int(),
    max_sse_clients: z.number().int(),
    sse_max_backlog_bytes: z.number().int(),
    sse_max_backlog_ms: z.number().int(),
  }),
  claude: z.object({
    bin: z.string(),
    version: z.string().nullable().describe("`claude --version`; null when it cannot be run"),
    models: z.array(z.string()),
    default_model: z.string(),
    default_effort: Effort,
  }),
  db: z.object({
    schema_version: z.number().int(),
    sqlite_version: z.string(),
  }),
  sandbox: z.object({
    mode: z.enum(["bwrap", "off"]).describe(
      "`bwrap`: every claude child runs in a bubblewrap sandbox (own PID namespace, read-only system, the daemon's state, sockets and the user's secrets hidden); `off`: unsandboxed",
    ),
    reason: z.string().describe("why this mode is in force (decided once at start)"),
  }),
}).meta({ id: "SystemInfo" });
export type SystemInfo = z.infer<typeof SystemInfo>;

export const HealthStatus = z.enum(["ok", "degraded", "error"]).meta({ id: "HealthStatus" });

export const ReadinessStatus = z.enum(["ok", "warn", "fail", "unchecked"]).meta({
  id: "ReadinessStatus",
});

const readinessCheck = {
  status: ReadinessStatus,
  detail: z.string().describe("what was found, in one line"),
  fix: z.string().nullable().describe("what to do, in one line; null when nothing is wrong"),
};

export const ClaudeReadiness = z.object({
  ok: z.boolean().describe("no check failed: agents can start"),
  checked_at: z.number().int().describe("Unix epoch milliseconds"),
  binary: z.object({
    ...readinessCheck,
    bin: z.string(),
    version: z.string().nullable().describe("`claude --version`; null when it cannot be run"),
    tested_version: z.string().describe("the version this release is tested with"),
  }),
  credential: z.object({
    ...readinessCheck,
    kind: z.enum(["subscription", "oauth_token", "auth_token", "api_key", "none"]).describe(
      "subscription: the CLI's login (credentials file); oauth_token: CLAUDE_CODE_OAUTH_TOKEN; " +
        "auth_token: ANTHROPIC_AUTH_TOKEN; api_key: the key stored with `login --api-key`",
    ),
  }),
  root: z.object(readinessCheck),
  upstream: z.object({ ...readinessCheck, url: z.string() }),
}).meta({ id: "ClaudeReadiness" });
export type ClaudeReadiness = z.infer<typeof ClaudeReadiness>;
export const StorageState = z.enum(["ok", "storage_full", "storage_busy", "storage_io_error"])
  .meta({ id: "StorageState" });

export const StorageHealth = z.object({
  ok: z.boolean(),
  state: StorageState.describe(
    "ok, or why database writes fail right now: disk full, lock held by another process past the busy timeout, I/O error",
  ),
  since: z.number().int().nullable().describe("when the current fault began (epoch ms)"),
  last_error: z.string().nullable().describe("the newest failure (kept after recovery)"),
  retries: z.number().int().describe("failed attempts since the fault began"),
  held_lines: z.number().int().describe(
    "output lines held in memory, not yet stored (agents are held back meanwhile)",
  ),
  held_bytes: z.number().int(),
  over_bound: z.boolean().describe("the fault has lasted at least bound_ms"),
  bound_ms: z.number().int(),
}).meta({ id: "StorageHealth" });
export type StorageHealth = z.infer<typeof StorageHealth>;

export const SystemHealth = z.object({
  status: HealthStatus,
  service: z.string(),
  version: z.string(),
  uptime_ms: z.number().int(),
  checks: z.object({
    db: z.object({ ok: z.boolean(), detail: z.string().nullable() }),
    supervisor: z.object({
      ok: z.boolean(),
      running: z.number().int(),
      queued: z.number().int(),
      max_concurrent: z.number().int(),
    }),
    events: z.object({
      ok: z.boolean(),
      clients: z.number().int().describe("open /events streams"),
      dropped_total: z.number().int().describe("streams dropped for falling behind"),
      last_event_id: z.number().int(),
    }),
    storage: StorageHealth.describe(
      "While storage fails, output is held (bounded) and retried with back-off; agents wait on their pipes",
    ),
  }),
  claude: ClaudeReadiness.nullable().describe(
    "whether agents can run here (binary, credential, root, upstream), each with a fix; " +
      "computed at start and with `refresh`; null on GET /health until the first check ends",
  ),
}).meta({ id: "SystemHealth" });
export type SystemHealth = z.infer<typeof SystemHealth>;

export const BackupResult = z.object({
  path: z.string().describe("the backup file (mode 0600)"),
  bytes: z.number().int().describe("its size"),
  created_at: z.number().int().describe("Unix epoch milliseconds"),
}).meta({ id: "BackupResult" });
export type BackupResult = z.infer<typeof BackupResult>;

export const OpenrpcDocument = z.looseObject({
  openrpc: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  methods: z.array(z.looseObject({ name: z.string() })),
}).meta({ id: "OpenrpcDocument" });
export type OpenrpcDocument = z.infer<typeof OpenrpcDocument>;

/** `data` of an SSE `message` event (`event: agent` carries an {@linkcode Agent}). */
