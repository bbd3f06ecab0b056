/**
 * Errors callers handle, each with a stable machine `code` (mapped to JSON-RPC errors by the
 * server in one place).
 */

export class EngineError extends Error {
  constructor(readonly code: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export class ValidationError extends EngineError {
  override name = "ValidationError";
  constructor(
    code:
      | "invalid_model"
      | "invalid_effort"
      | "invalid_cwd"
      | "invalid_prompt"
      | "invalid_params"
      | "invalid_home_mcp"
      | "invalid_isolation",
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
  }
}

export class InvalidStateError extends EngineError {
  override name = "InvalidStateError";
  constructor(message: string) {
    super("invalid_state", message);
  }
}

export class BusyError extends EngineError {
  override name = "BusyError";
  constructor(message: string) {
    super("busy", message);
  }
}
