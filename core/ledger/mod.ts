/**
 * The session ledger: adopting Claude Code sessions started outside the supervisor.
 * @module
 */
export {
  claudeConfigDir,
  type ImportReport,
  importSessions,
  type ImportSessionsOptions,
  sanitizedCwd,
  SessionLedger,
  type SessionLedgerOptions,
} from "./import.ts";
