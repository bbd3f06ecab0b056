/** Errors the store raises that callers handle by type or `code`. */

/** An operation named an agent id that is not in the database. */
export class AgentNotFoundError extends Error {
  override name = "AgentNotFoundError";
  readonly code = "not_found";
  constructor(readonly agentId: string, options?: ErrorOptions) {
    super(`Cannot find agent "${agentId}": no such agent`, options);
  }
}

/**
 * A write to the database failed (disk full, I/O error, …); nothing of that transaction was stored.
 * `code` matches the agent error code `storage_error`.
 */
export class StorageError extends Error {
  override name = "StorageError";
  readonly code = "storage_error";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A write could not start: another connection (usually another process) holds the database's
 * write lock past this connection's busy timeout. `code` is the RPC error `busy`; the SQLite
 * error is the `cause`, so `storageFaultOf()` still reads it as a `busy` fault.
 */
export class StoreBusyError extends Error {
  override name = "BusyError";
  readonly code = "busy";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A write failed because storage does: the disk is full or the device reported an I/O error.
 * Nothing of the transaction was stored and the same write may succeed later, so `code` is the
 * RPC error `busy` (the daemon cannot take the write now), never an internal error. The SQLite
 * error is the `cause`, so `storageFaultOf()` still reads the fault.
 */
export class StorageUnavailableError extends Error {
  override name = "StorageUnavailableError";
  readonly code = "busy";
  constructor(readonly fault: "full" | "io", message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The message of any thrown value, for wrapping it into another error's message. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An operation named an approval id that is not in the database. */
export class ApprovalNotFoundError extends Error {
  override name = "ApprovalNotFoundError";
  readonly code = "not_found";
  constructor(readonly approvalId: string, options?: ErrorOptions) {
    super(`Cannot find approval "${approvalId}": no such approval`, options);
  }
}
