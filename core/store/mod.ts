/**
 * The engine's persistence: one SQLite file (WAL, `synchronous=FULL`) holding agents, their stdout
 * lines and the event log. All SQL of the project lives in this module.
 *
 * - {@linkcode openStore} → {@linkcode Store}: agents, transitions, reads, events.
 * - {@linkcode MessageWriter}: the single, group-committing writer of lines.
 * - `onCommit` (of both): what a transaction changed, handed on only after its COMMIT.
 *
 * @module
 */
export { type DeletedAgent, openStore, type OpenStoreOptions, Store } from "./store.ts";
export type { OnStoreCommit, StoreChange } from "./outbox.ts";
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
  StretchEnd,
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
export type {
  AgentIsolation,
  CommitRecord,
  IsolationEntry,
  WorktreeNeighbour,
  WorktreeSnapshot,
} from "./worktrees.ts";
export type { RawLine, ReadMessagesOptions } from "./messages.ts";
export {
  checkSearchIndex,
  indexSearchBatch,
  rebuildSearchIndex,
  type SearchHit,
  SearchIndexer,
  type SearchIndexerOptions,
  searchMessages,
  type SearchPage,
  type SearchQuery,
  type SearchStatus,
  searchStatus,
  TOTAL_CAP,
} from "./search.ts";
export { parseSearchQuery, SearchSyntaxError, type SnippetPart } from "./search_query.ts";
export { type SearchField, searchTextOf } from "./search_text.ts";
export {
  AgentNotFoundError,
  ApprovalNotFoundError,
  StorageError,
  StorageUnavailableError,
  StoreBusyError,
} from "./errors.ts";
export type { ApprovalAnswer, ApprovalRoute, NewApproval } from "./approvals.ts";
export {
  commitImportBatch,
  commitImportBatches,
  type ImportBatch,
  ImportConflictError,
  type ImportedFile,
  importedFile,
  importedFileOfAgent,
  type ImportedLine,
  isSupervisedSession,
  supervisedAgentOfSession,
} from "./session_imports.ts";
export { checkSqliteVersion } from "./sqlite_version.ts";
export { type Migration, MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
export {
  backupDirOf,
  DatabaseFileError,
  MIN_BUSY_TIMEOUT_MS,
  type StorageFault,
  storageFaultOf,
} from "./db.ts";
export { backupDatabase, type BackupFile } from "./backup.ts";
export { type DatabaseReport, inspectDatabase, linkedSqliteVersion } from "./inspect.ts";
