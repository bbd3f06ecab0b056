/**
 * JSON-RPC from the browser: the SDK's client over the admin's same-origin `POST {base}/rpc`
 * (`base()` is the router prefix; cookies go along, same-origin only). Errors are the SDK's
 * {@linkcode RpcError} (code, message, `data.name`, `data.code`, `data.field`).
 * @module
 */
import { type BatchCall, type MethodName, RpcClient, RpcError, type RpcMethods } from "@hero/sdk";
import { base } from "./base.ts";

export { type BatchCall, RpcError };

let client: RpcClient | null = null;

/** Created on first use: the prefix is read from the page. */
function rpc(): RpcClient {
  client ??= new RpcClient({
    baseUrl: base(),
    fetch: function sameOrigin(input, init) {
      return fetch(input, { ...init, credentials: "same-origin" });
    },
  });
  return client;
}

/** Calls one method. */
export function call<M extends MethodName>(
  method: M,
  params: RpcMethods[M]["params"],
): Promise<RpcMethods[M]["result"]> {
  return rpc().call(method, params);
}

/** Sends calls as one batch; each slot holds the result or an {@linkcode RpcError}. */
export function batch(calls: BatchCall[]): Promise<Array<unknown | RpcError>> {
  return rpc().batch(calls);
}

/** A readable message for any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
