/**
 * JSON-RPC 2.0 over HTTP: envelope → contract table → zod → handler → toRpcError.
 *
 * Limits are enforced before any parsing: bodies over {@linkcode MAX_BODY_BYTES} are answered 413
 * (declared length or bytes received), documents nested deeper than {@linkcode MAX_DEPTH} -32600.
 * Method lookup goes through a `Map`, params are validated by strict zod objects (unknown keys,
 * `__proto__` and `constructor` included, are invalid params), and nothing is ever merged into an
 * existing object, so request keys cannot reach any prototype.
 * @module
 */
import type { z } from "zod";
import {
  type DomainErrorReason,
  issuesOf,
  MAX_BATCH,
  MAX_BODY_BYTES,
  MAX_DEPTH,
  type MethodName,
  METHODS,
  type MethodSpec,
  rpcError,
  type RpcErrorObject,
  RpcFault,
  toRpcError,
} from "@hero/core/rpc";
import type { RpcDeps } from "./deps.ts";
import type { HandlerTable } from "./handlers/mod.ts";
import { type CallContext, NO_CALL_CONTEXT } from "./handlers/define.ts";
import { exceedsDepth, readBodyLimited } from "./body.ts";

type Id = string | number | null;

/** One JSON-RPC response object. */
export type RpcResponse =
  | { jsonrpc: "2.0"; id: Id; result: unknown }
  | { jsonrpc: "2.0"; id: Id; error: RpcErrorObject };

interface Entry {
  spec: MethodSpec;
  handler: (params: unknown, deps: RpcDeps, context: CallContext) => unknown;
}

export interface DispatcherOptions {
  handlers: HandlerTable;
  deps: RpcDeps;
}

function errorResponse(id: Id, error: RpcErrorObject): RpcResponse {
  return { jsonrpc: "2.0", id, error };
}

function isId(value: unknown): value is Id {
  return value === null || typeof value === "string" ||
    (typeof value === "number" && Number.isFinite(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A zod failure on a field that has a domain code (e.g. `effort`) answers with that code. */
function paramsError(spec: MethodSpec, error: z.ZodError): RpcErrorObject {
  const issues = issuesOf(error);
  const fields = spec.fieldErrors ?? {};
  const reasons = new Set<DomainErrorReason | undefined>(
    error.issues.map((issue) => {
      const field = issue.path[0];
      return typeof field === "string" && Object.hasOwn(fields, field) ? fields[field] : undefined;
    }),
  );
  const [reason] = reasons;
  if (reasons.size === 1 && reason !== undefined) {
    const field = String(error.issues[0]!.path[0]);
    return rpcError(reason, `Invalid ${field}: ${error.issues[0]!.message}`, { field, issues });
  }
  return rpcError("invalid_params", "Invalid params", { issues });
}

/** Routes parsed JSON-RPC payloads to the handler table. */
export class Dispatcher {
  #table = new Map<string, Entry>();
  #deps: RpcDeps;

  constructor(options: DispatcherOptions) {
    this.#deps = options.deps;
    for (const name of Object.keys(METHODS) as MethodName[]) {
      this.#table.set(name, {
        spec: METHODS[name] as unknown as MethodSpec,
        handler: options.handlers[name] as unknown as Entry["handler"],
      });
    }
  }

  /** Names of the dispatched methods. */
  get methods(): string[] {
    return [...this.#table.keys()];
  }

  /**
   * Handles a parsed payload (single request or batch). Returns the response body, or null when
   * nothing is to be answered (notifications only).
   */
  async handle(
    payload: unknown,
    context: CallContext = NO_CALL_CONTEXT,
  ): Promise<RpcResponse | RpcResponse[] | null> {
    if (!Array.isArray(payload)) return await this.#one(payload, context);
    if (payload.length === 0) {
      return errorResponse(null, rpcError("invalid_request", "Invalid request: empty batch"));
    }
    if (payload.length > MAX_BATCH) {
      return errorResponse(
        null,
        rpcError(
          "invalid_request",
          `Invalid request: a batch holds at most ${MAX_BATCH} requests, got ${payload.length}`,
          { max_batch: MAX_BATCH },
        ),
      );
    }
    const answers = await Promise.all(payload.map((request) => this.#one(request, context)));
    const responses = answers.filter((r): r is RpcResponse => r !== null);
    return responses.length > 0 ? responses : null;
  }

  async #one(request: unknown, context: CallContext): Promise<RpcResponse | null> {
    if (!isPlainObject(request)) {
      return errorResponse(
        null,
        rpcError("invalid_request", "Invalid request: expected a JSON-RPC object"),
      );
    }
    const hasId = Object.hasOwn(request, "id");
    const rawId = hasId ? request.id : null;
    if (!isId(rawId)) {
      return errorResponse(
        null,
        rpcError("invalid_request", "Invalid request: id must be a string, a number or null"),
      );
    }
    const id: Id = rawId;
    if (request.jsonrpc !== "2.0") {
      return errorResponse(
        id,
        rpcError("invalid_request", 'Invalid request: jsonrpc must be "2.0"'),
      );
    }
    if (typeof request.method !== "string") {
      return errorResponse(
        id,
        rpcError("invalid_request", "Invalid request: method must be a string"),
      );
    }
    const hasParams = Object.hasOwn(request, "params");
    if (hasParams && (typeof request.params !== "object" || request.params === null)) {
      return errorResponse(
        id,
        rpcError("invalid_request", "Invalid request: params must be an object or an array"),
      );
    }
    const work = this.#call(request.method, hasParams ? request.params : {}, context);
    if (!hasId) {
      // A notification is executed but never answered, errors included.
      work.catch(() => {});
      return null;
    }
    try {
      return { jsonrpc: "2.0", id, result: await work };
    } catch (err) {
      return errorResponse(id, this.#toError(err, request.method));
    }
  }

  async #call(method: string, params: unknown, context: CallContext): Promise<unknown> {
    const entry = this.#table.get(method);
    if (!entry) {
      throw new RpcFault("method_not_found", `Method not found: ${method.slice(0, 100)}`);
    }
    if (Array.isArray(params)) {
      throw new RpcFault("invalid_params", "Invalid params: this service takes params by name");
    }
    const parsed = entry.spec.params.safeParse(params);
    if (!parsed.success) throw new ParamsFault(paramsError(entry.spec, parsed.error));
    const result = await entry.handler(parsed.data, this.#deps, context);
    const checked = entry.spec.result.safeParse(result);
    if (!checked.success) {
      this.#deps.log("error", "handler result does not match the contract", {
        method,
        issues: issuesOf(checked.error),
      });
      throw new RpcFault("internal_error");
    }
    return checked.data;
  }

  #toError(err: unknown, method: string): RpcErrorObject {
    if (err instanceof ParamsFault) return err.error;
    const error = toRpcError(err);
    if (error.code === -32603 && !(err instanceof RpcFault)) {
      this.#deps.log("error", "method failed", {
        method: method.slice(0, 100),
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
    return error;
  }
}

/** Carries an already-built params error out of `#call`. */
class ParamsFault extends Error {
  constructor(readonly error: RpcErrorObject) {
    super(error.message);
  }
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** `POST /rpc`: limits, parsing, dispatch, HTTP status (204 when there is nothing to answer). */
export async function handleRpcHttp(req: Request, dispatcher: Dispatcher): Promise<Response> {
  const body = await readBodyLimited(req, MAX_BODY_BYTES);
  if (body === null) {
    return json(
      errorResponse(
        null,
        rpcError("invalid_request", `Request body exceeds ${MAX_BODY_BYTES} bytes`, {
          max_body_bytes: MAX_BODY_BYTES,
        }),
      ),
      413,
    );
  }
  if (exceedsDepth(body, MAX_DEPTH)) {
    return json(
      errorResponse(
        null,
        rpcError("invalid_request", `Invalid request: JSON nested deeper than ${MAX_DEPTH}`, {
          max_depth: MAX_DEPTH,
        }),
      ),
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(decoder.decode(body));
  } catch {
    return json(errorResponse(null, rpcError("parse_error", "Parse error: invalid JSON")));
  }
  const heroContext = req.headers.get("x-hero-context")?.trim() || null;
  const answer = await dispatcher.handle(payload, { heroContext });
  return answer === null ? new Response(null, { status: 204 }) : json(answer);
}
