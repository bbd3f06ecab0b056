/** What the RPC handlers and the HTTP routes need, passed in by the composition root. */
import type { Engine } from "../../core/supervisor/mod.ts";
import type { OpenrpcDocument } from "../../core/rpc/mod.ts";

/** Structured log function (JSONL on stderr in the daemon). */
export type Log = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** Live counters of the event stream, for health. */
export interface EventStats {
  readonly clients: number;
  readonly droppedTotal: number;
  readonly maxClients: number;
  readonly maxBacklogBytes: number;
  readonly maxBacklogMs: number;
}

export interface RpcDeps {
  engine: Pick<
    Engine,
    "store" | "writer" | "supervisor" | "settings" | "paths" | "shadows" | "usage"
  >;
  events: EventStats;
  openrpc: OpenrpcDocument;
  /** Epoch ms the daemon started. */
  startedAt: number;
  /** `claude --version` of the configured binary, or null when it cannot be run. */
  claudeVersion: () => Promise<string | null>;
  log: Log;
}
