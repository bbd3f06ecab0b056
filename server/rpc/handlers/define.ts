/** The typed identity function handler files use: one handler per contract method. */
import type { MethodName, ParamsOf, ResultOf } from "@hero/core/rpc";
import type { RpcDeps } from "../deps.ts";

/** Per-request facts from the HTTP request, for the handlers that need them. */
export interface CallContext {
  /** The request's `X-Hero-Context` header (set by hero_router / hero_proxy), or null. */
  heroContext: string | null;
}

/** The context of a call that did not come over HTTP. */
export const NO_CALL_CONTEXT: CallContext = Object.freeze({ heroContext: null });

/** Handles one method: params are already validated against the contract (defaults applied). */
export type Handler<M extends MethodName> = (
  params: ParamsOf<M>,
  deps: RpcDeps,
  context: CallContext,
) => ResultOf<M> | Promise<ResultOf<M>>;

/** A table of handlers, keyed by method name. */
export type HandlerTable<M extends MethodName = MethodName> = { [K in M]: Handler<K> };

/** Identity function: checks each handler against its method's params and result types. */
export function handlers<M extends MethodName>(table: HandlerTable<M>): HandlerTable<M> {
  return table;
}
