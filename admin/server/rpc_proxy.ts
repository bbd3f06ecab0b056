/**
 * `POST /rpc`: the same-origin JSON-RPC pass-through to rpc.sock for the browser (admin islands,
 * the widget). The caller's cookies and other headers never reach the server; only the JSON body
 * (at most 1 MiB) and, on the Unix socket, the router's `X-Hero-*` context headers.
 * @module
 */
import type { Context } from "hono";
import { isJsonContentType } from "./guard.ts";
import { errorText, type Upstream } from "./upstream.ts";
import type { Log } from "@hero/service/log";
import { readBodyLimited } from "@hero/service/body";

/** Bodies above this are refused with 413 (the server's own limit). */
export const MAX_RPC_BODY_BYTES = 1024 * 1024;

const FORWARDED = ["x-hero-context", "x-hero-claims", "x-hero-user"];

/** Options of {@linkcode rpcPassThrough}. */
export interface RpcPassThroughOptions {
  upstream: Upstream;
  log: Log;
  /** Pass the router's `X-Hero-*` headers on (Unix socket only: on TCP anyone could set them). */
  forwardHeroHeaders: boolean;
}

function rpcFailure(status: number, code: number, reason: string, message: string): Response {
  return new Response(
    JSON.stringify({
      jsonrpc: "2.0",
      id: null,
      error: { code, message, data: { name: "AdminProxyError", code: reason } },
    }),
    { status, headers: { "content-type": "application/json" } },
  );
}

/** The `POST /rpc` handler. */
export function rpcPassThrough(options: RpcPassThroughOptions) {
  return async function rpc(c: Context): Promise<Response> {
    const req = c.req.raw;
    if (!isJsonContentType(req.headers.get("content-type"))) {
      return rpcFailure(
        415,
        -32600,
        "unsupported_media_type",
        "Cannot call: the body must be sent as application/json",
      );
    }
    const body = await readBodyLimited(req, MAX_RPC_BODY_BYTES);
    if (body === null) {
      return rpcFailure(413, -32600, "too_large", "Cannot call: the body is larger than 1 MiB");
    }
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.forwardHeroHeaders) {
      for (const name of FORWARDED) {
        const value = req.headers.get(name);
        if (value !== null) headers[name] = value;
      }
    }
    let answer: Response;
    try {
      answer = await options.upstream.fetch("/rpc", { method: "POST", headers, body });
    } catch (err) {
      options.log("warn", "rpc pass-through failed", { error: errorText(err) });
      return rpcFailure(
        502,
        -32603,
        "upstream_unavailable",
        "Cannot reach hero_orchestrator_server: is it running?",
      );
    }
    const out = new Headers({ "cache-control": "no-store" });
    const type = answer.headers.get("content-type");
    if (type) out.set("content-type", type);
    return new Response(answer.status === 204 ? null : answer.body, {
      status: answer.status,
      headers: out,
    });
  };
}
