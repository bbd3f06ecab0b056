/**
 * The engine's persistence: one SQLite file (WAL, `synchronous=FULL`) holding agents, their stdout
 * lines and the event log. All SQL of the project lives in this module.
 *
 * - {@linkcode openStore} → {@linkcode Store}: agents, transitions, reads, events.
 * - {@linkcode MessageWriter}: the single, group-committing writer of lines.
 *
 * @module
 */
export { type DeletedAgent, openStore, type OpenStoreOptions, Store } from "./store.ts";
export {
  type AppendResult,
  type CommittedBatch,
  type CommittedLine,
  MessageWriter,
  type MessageWriterOptions,
  type PendingLine,
  type WriterStatus,
} from "./writer.ts";
export {
  StorageMonitor,
  type StorageMonitorOptions,
  type StorageState,
  type StorageStatus,
} from "./storage_state.ts";
export type {
  AgentPage,
  AgentPatch,
  AgentQuery,
  KnownCwd,
  KnownCwdsOptions,
  NewAgent,
  ProcessColumns,
  ProcessRecord,
} from "./agents.ts";
export type { EventKind, StoredEvent } from "./events.ts";
export type {
  AgentUsage,
  OauthPoll,
  OauthPollInput,
  ProxyTally,
  ProxyTallyDelta,
  ProxyTokenRecord,
  RateLimitSnapshot,
  RateLimitSnapshotInput,
  TurnUsage,
  UsageBucket,
  UsageSums,
} from "./proxy.ts";
export { ZERO_USAGE_SUMS } from "./proxy.ts";
export type { CommitRecord, WorktreeNeighbour, WorktreeSnapshot } from "./worktrees.ts";
export type { ReadMessagesOptions } from "./messages.ts";
export { AgentNotFoundError, StorageError } from "./errors.ts";
export { checkSqliteVersion } from "./sqlite_version.ts";
export { type Migration, MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
export { MIN_BUSY_TIMEOUT_MS, type StorageFault, storageFaultOf } from "./db.ts";
export { type DatabaseReport, inspectDatabase, linkedSqliteVersion } from "./inspect.ts";
