/**
 * The JSON-RPC 2.0 core of the SDK: one transport (an injected `fetch`), one error class.
 * Runs in browsers and Deno alike: no `Deno.*`, no `node:`, no zod. Typed by a method table:
 * this service's generated {@linkcode RpcMethods} by default, or any other JSON-RPC service's.
 * @module
 */
import type { RpcMethods } from "./gen/methods.gen.ts";
import type { RpcErrorData } from "./gen/types.gen.ts";

/** The subset of `fetch` the SDK uses; inject a Unix-socket fetch in Deno, `fetch` in a browser. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options shared by the RPC client and the event stream. */
export interface TransportOptions {
  /** Defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /**
   * Prefix of the service's routes: `http://localhost` over a Unix socket, `""` (same origin) or
   * a router prefix like `/hero_orchestrator/rpc` in a browser. Default `http://localhost`.
   */
  baseUrl?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/**
 * A JSON-RPC error answer (or a transport failure, with code -32603 and no data). `name` is the
 * service's error name (`data.name`), `reason` its machine code (`data.code`).
 *
 * @example
 * ```ts ignore
 * try {
 *   await client.agent.get({ id: "nope" });
 * } catch (err) {
 *   if (err instanceof RpcError && err.reason === "not_found") console.log("gone");
 * }
 * ```
 */
export class RpcError extends Error {
  /** JSON-RPC error code. */
  readonly code: number;
  /** `error.data` as sent. */
  readonly data: RpcErrorData | undefined;
  /** HTTP status of the answer (200 for JSON-RPC errors, 413 for too large bodies, …). */
  readonly status: number;

  constructor(code: number, message: string, data?: RpcErrorData, status = 200) {
    super(message);
    this.code = code;
    this.data = data;
    this.status = status;
    this.name = typeof data?.name === "string" ? data.name : "RpcError";
  }

  /** The machine code (`data.code`), e.g. `not_found`, or undefined. */
  get reason(): string | undefined {
    return this.data?.code;
  }
}

interface WireError {
  code: number;
  message: string;
  data?: RpcErrorData;
}

interface WireResponse {
  jsonrpc: "2.0";
  id: string | number | null;
  result?: unknown;
  error?: WireError;
}

function isWireResponse(value: unknown): value is WireResponse {
  return typeof value === "object" && value !== null && (value as WireResponse).jsonrpc === "2.0";
}

function toError(error: WireError, status: number): RpcError {
  return new RpcError(error.code, error.message, error.data, status);
}

/**
 * A table of JSON-RPC methods: name → params and result types, like the generated
 * {@linkcode RpcMethods}.
 */
export type MethodTable<T> = { [M in keyof T]: { params: unknown; result: unknown } };

/** One call of a batch: a method of the table `T` and its params. */
export type BatchCall<T extends MethodTable<T> = RpcMethods> = {
  [M in keyof T & string]: { method: M; params: T[M]["params"] };
}[keyof T & string];

/**
 * The JSON-RPC client: `call`, `notify` and `batch` over `POST {baseUrl}/rpc`, typed by the
 * method table `T` (this service's methods by default).
 */
export class RpcClient<T extends MethodTable<T> = RpcMethods> {
  readonly baseUrl: string;
  #fetch: FetchLike;
  #headers: Record<string, string>;
  #nextId = 1;

  constructor(options: TransportOptions = {}) {
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.baseUrl = (options.baseUrl ?? "http://localhost").replace(/\/+$/, "");
    this.#headers = options.headers ?? {};
  }

  /** The transport, for helpers that share it (the event stream). */
  get fetch(): FetchLike {
    return this.#fetch;
  }

  /** Extra headers sent with every request. */
  get headers(): Record<string, string> {
    return { ...this.#headers };
  }

  async #post(body: unknown): Promise<{ status: number; payload: unknown }> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.baseUrl}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", ...this.#headers },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new RpcError(
        -32603,
        `Cannot reach the service: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (response.status === 204) {
      await response.body?.cancel();
      return { status: 204, payload: null };
    }
    const text = await response.text();
    try {
      return { status: response.status, payload: JSON.parse(text) };
    } catch {
      throw new RpcError(
        -32603,
        `Cannot read the answer: HTTP ${response.status} with a non-JSON body`,
        undefined,
        response.status,
      );
    }
  }

  /** Calls `method` and resolves with its result; rejects with {@linkcode RpcError}. */
  async call<M extends keyof T & string>(
    method: M,
    params: T[M]["params"],
  ): Promise<T[M]["result"]> {
    const id = this.#nextId++;
    const { status, payload } = await this.#post({ jsonrpc: "2.0", id, method, params });
    if (!isWireResponse(payload)) {
      throw new RpcError(
        -32603,
        `Cannot read the answer: HTTP ${status} without a JSON-RPC response`,
        undefined,
        status,
      );
    }
    if (payload.error) throw toError(payload.error, status);
    return payload.result as T[M]["result"];
  }

  /** Sends a notification (no answer, errors included). */
  async notify<M extends keyof T & string>(method: M, params: T[M]["params"]): Promise<void> {
    const { status, payload } = await this.#post({ jsonrpc: "2.0", method, params });
    if (isWireResponse(payload) && payload.error) throw toError(payload.error, status);
  }

  /**
   * Sends calls as one batch; each slot holds the result or the {@linkcode RpcError}. An empty
   * batch sends nothing (JSON-RPC rejects an empty array).
   */
  async batch(calls: BatchCall<T>[]): Promise<Array<unknown | RpcError>> {
    if (calls.length === 0) return [];
    const first = this.#nextId;
    this.#nextId += calls.length;
    const { status, payload } = await this.#post(
      calls.map((c, i) => ({ jsonrpc: "2.0", id: first + i, method: c.method, params: c.params })),
    );
    if (isWireResponse(payload) && payload.error) throw toError(payload.error, status);
    if (!Array.isArray(payload)) {
      throw new RpcError(
        -32603,
        `Cannot read the batch answer: HTTP ${status} without an array`,
        undefined,
        status,
      );
    }
    const byId = new Map<unknown, WireResponse>();
    for (const r of payload) if (isWireResponse(r)) byId.set(r.id, r);
    return calls.map((_, i) => {
      const r = byId.get(first + i);
      if (!r) return new RpcError(-32603, "Cannot read the batch answer: a response is missing");
      return r.error ? toError(r.error, status) : r.result;
    });
  }
}
