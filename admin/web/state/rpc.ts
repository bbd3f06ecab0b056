/**
 * JSON-RPC from the browser over the admin's same-origin `POST {base}/rpc`, typed by the SDK's
 * generated method table (`import type` only: no SDK code, no zod, in the bundle).
 * @module
 */
import type { MethodName, RpcErrorData, RpcMethods } from "@hero/sdk";
import { base } from "./base.ts";

/** An error answer (or a transport failure: code -32603, no data). */
export class CallError extends Error {
  readonly code: number;
  readonly data: RpcErrorData | undefined;
  readonly status: number;

  constructor(code: number, message: string, data?: RpcErrorData, status = 200) {
    super(message);
    this.name = data?.name ?? "CallError";
    this.code = code;
    this.data = data;
    this.status = status;
  }

  /** Machine code, e.g. `invalid_cwd`. */
  get reason(): string | undefined {
    return this.data?.code;
  }
}

interface Wire {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: RpcErrorData };
}

let nextId = 1;

async function post(body: unknown): Promise<{ status: number; payload: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${base()}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    throw new CallError(
      -32603,
      `Cannot reach the admin: ${err instanceof Error ? err.message : err}`,
    );
  }
  const text = await response.text();
  try {
    return { status: response.status, payload: JSON.parse(text) };
  } catch {
    throw new CallError(
      -32603,
      `Cannot read the answer: HTTP ${response.status}`,
      undefined,
      response.status,
    );
  }
}

function errorOf(wire: Wire, status: number): CallError {
  const e = wire.error!;
  return new CallError(e.code, e.message, e.data, status);
}

/** Calls one method. */
export async function call<M extends MethodName>(
  method: M,
  params: RpcMethods[M]["params"],
): Promise<RpcMethods[M]["result"]> {
  const { status, payload } = await post({ jsonrpc: "2.0", id: nextId++, method, params });
  const wire = payload as Wire;
  if (wire?.error) throw errorOf(wire, status);
  if (!wire || !("result" in wire)) {
    throw new CallError(-32603, `Cannot read the answer: HTTP ${status}`);
  }
  return wire.result as RpcMethods[M]["result"];
}

/** One call of a batch. */
export type BatchCall = {
  [M in MethodName]: { method: M; params: RpcMethods[M]["params"] };
}[MethodName];

/** Sends calls as one batch; each slot holds the result or a {@linkcode CallError}. */
export async function batch(calls: BatchCall[]): Promise<Array<unknown | CallError>> {
  if (calls.length === 0) return [];
  const first = nextId;
  nextId += calls.length;
  const { status, payload } = await post(
    calls.map((c, i) => ({ jsonrpc: "2.0", id: first + i, method: c.method, params: c.params })),
  );
  if (!Array.isArray(payload)) {
    const wire = payload as Wire;
    throw wire?.error
      ? errorOf(wire, status)
      : new CallError(-32603, `Cannot read the answer: HTTP ${status}`);
  }
  const byId = new Map<unknown, Wire>();
  for (const w of payload as Wire[]) byId.set(w.id, w);
  return calls.map((_, i) => {
    const w = byId.get(first + i);
    if (!w) return new CallError(-32603, "Cannot read the answer: a response is missing");
    return w.error ? errorOf(w, status) : w.result;
  });
}

/** A readable message for any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
