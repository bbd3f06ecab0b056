/**
 * The JSON-RPC error vocabulary: every error the server can answer with, its numeric code, its
 * stable machine `code` (in `error.data.code`) and its `name` (in `error.data.name`), plus the one
 * mapping from thrown errors to JSON-RPC error objects.
 * @module
 */
import { z } from "zod";

/** How an error is described in `openrpc.json` and answered on the wire. */
export interface ErrorSpec {
  /** JSON-RPC error code. */
  code: number;
  /** Stable machine code, sent as `error.data.code`. */
  reason: string;
  /** Error class name, sent as `error.data.name`. */
  name: string;
  /** Generic message (the answered message is usually more specific). */
  message: string;
}

function spec(code: number, reason: string, name: string, message: string): ErrorSpec {
  return { code, reason, name, message };
}

/** Every error, by machine code. Standard JSON-RPC codes, then domain codes from -32000 down. */
export const RPC_ERRORS = {
  parse_error: spec(-32700, "parse_error", "ParseError", "Parse error"),
  invalid_request: spec(-32600, "invalid_request", "InvalidRequestError", "Invalid request"),
  method_not_found: spec(-32601, "method_not_found", "MethodNotFoundError", "Method not found"),
  invalid_params: spec(-32602, "invalid_params", "InvalidParamsError", "Invalid params"),
  internal_error: spec(-32603, "internal_error", "InternalError", "Internal error"),
  not_found: spec(-32000, "not_found", "AgentNotFoundError", "Agent not found"),
  invalid_state: spec(
    -32001,
    "invalid_state",
    "InvalidStateError",
    "The agent is not in a state that allows this",
  ),
  invalid_cwd: spec(-32002, "invalid_cwd", "ValidationError", "Invalid working directory"),
  invalid_model: spec(-32003, "invalid_model", "ValidationError", "Unknown model"),
  invalid_effort: spec(-32004, "invalid_effort", "ValidationError", "Unknown effort"),
  invalid_prompt: spec(-32005, "invalid_prompt", "ValidationError", "Invalid prompt"),
  busy: spec(-32006, "busy", "BusyError", "The daemon cannot take this request now"),
  invalid_home_mcp: spec(
    -32007,
    "invalid_home_mcp",
    "ValidationError",
    "home_mcp is not a canonical Hero service name",
  ),
  commit_refused: spec(
    -32008,
    "commit_refused",
    "CommitRefusedError",
    "The agent's changes cannot be committed as they are",
  ),
  backup_failed: spec(-32009, "backup_failed", "BackupError", "The database backup failed"),
  merge_conflict: spec(
    -32010,
    "merge_conflict",
    "IsolationError",
    "The agent's branch conflicts with its base branch (data.files)",
  ),
  merge_refused: spec(
    -32011,
    "merge_refused",
    "IsolationError",
    "The agent's branch cannot be merged now; nothing changed",
  ),
  unmerged_work: spec(
    -32012,
    "unmerged_work",
    "IsolationError",
    "The agent's worktree or branch holds work that is not merged (pass force)",
  ),
  invalid_isolation: spec(
    -32013,
    "invalid_isolation",
    "ValidationError",
    "The agent cannot be isolated as asked",
  ),
} as const satisfies Record<string, ErrorSpec>;

/** Machine code of an error (`error.data.code`). */
export type ErrorReason = keyof typeof RPC_ERRORS;

/** Domain errors a method may declare in the contract (standard protocol errors apply to all). */
export type DomainErrorReason = Exclude<
  ErrorReason,
  "parse_error" | "invalid_request" | "method_not_found" | "invalid_params" | "internal_error"
>;

/** `error.data` of every answered error. */
export const RpcErrorData = z.looseObject({
  name: z.string().describe("error class name, e.g. AgentNotFoundError"),
  code: z.string().describe("stable machine code, e.g. not_found"),
  field: z.string().optional().describe("the parameter at fault, for validation errors"),
  issues: z.array(z.unknown()).optional().describe("zod issues, for invalid params"),
}).meta({ id: "RpcErrorData" });
export type RpcErrorData = z.infer<typeof RpcErrorData>;

/** A JSON-RPC error object as sent on the wire. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data: RpcErrorData;
}

/**
 * An error the dispatcher raises itself (protocol errors) or a handler raises to pick an exact
 * answer. `extra` lands in `error.data` next to `name` and `code`.
 */
export class RpcFault extends Error {
  override name = "RpcFault";
  constructor(
    readonly reason: ErrorReason,
    message?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message ?? RPC_ERRORS[reason].message);
  }
}

/** Builds the wire error for a machine code. */
export function rpcError(
  reason: ErrorReason,
  message?: string,
  extra: Record<string, unknown> = {},
): RpcErrorObject {
  const known = RPC_ERRORS[reason];
  // `extra` is copied onto a fresh object whose own keys win: no prototype is ever written.
  const data: RpcErrorData = Object.assign(Object.create(null), extra, {
    name: known.name,
    code: known.reason,
  });
  return { code: known.code, message: message ?? known.message, data: { ...data } };
}

function isDomainReason(code: unknown): code is DomainErrorReason {
  if (typeof code !== "string" || !Object.hasOwn(RPC_ERRORS, code)) return false;
  // Domain codes live in the JSON-RPC "server error" range, -32000 to -32099.
  const n = RPC_ERRORS[code as ErrorReason].code;
  return n <= -32000 && n >= -32099;
}

/** Turns zod issues into plain, bounded JSON (at most 20 issues, no input values). */
export function issuesOf(error: z.ZodError): Array<Record<string, unknown>> {
  return error.issues.slice(0, 20).map((issue) => ({
    code: issue.code,
    path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
    message: issue.message,
  }));
}

/**
 * The one mapping from anything thrown to a JSON-RPC error. Engine errors carry a stable `code`
 * (`not_found`, `invalid_state`, `invalid_cwd`, …) and keep their message; anything else becomes
 * -32603 with a generic message: internals never reach the caller.
 */
export function toRpcError(err: unknown): RpcErrorObject {
  if (err instanceof RpcFault) return rpcError(err.reason, err.message, err.extra);
  if (err instanceof z.ZodError) {
    return rpcError("invalid_params", "Invalid params", { issues: issuesOf(err) });
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    // The engine's own parameter checks (e.g. a budget) answer like the contract's.
    if (isDomainReason(code) || code === "invalid_params") {
      const field = (err as { field?: unknown }).field;
      const files = (err as { files?: unknown }).files;
      return rpcError(code, err.message, {
        ...(typeof field === "string" ? { field } : {}),
        ...(Array.isArray(files) && files.length > 0 ? { files: files.slice(0, 1000) } : {}),
      });
    }
  }
  return rpcError("internal_error");
}
