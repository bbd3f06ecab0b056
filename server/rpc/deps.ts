/** What the RPC handlers and the HTTP routes need, passed in by the composition root. */
import type { Engine } from "@hero/core/engine";
import type { OpenrpcDocument } from "@hero/core/rpc";
import type { Log } from "@hero/service/log";
import type { Readiness } from "../readiness.ts";

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
    | "store"
    | "writer"
    | "supervisor"
    | "settings"
    | "paths"
    | "shadows"
    | "usage"
    | "credentials"
    | "search"
    | "ledger"
    | "sandbox"
  >;
  events: EventStats;
  openrpc: OpenrpcDocument;
  /** Epoch ms the daemon started. */
  startedAt: number;
  /** `claude --version` of the configured binary, or null when it cannot be run. */
  claudeVersion: () => Promise<string | null>;
  /** Whether agents can run here (`system.health`'s `claude`); absent in bare dispatch tests. */
  readiness?: Readiness;
  log: Log;
}
