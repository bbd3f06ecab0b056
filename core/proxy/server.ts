/**
 * The quota proxy: an HTTP reverse proxy on a Unix socket between claude children and the
 * upstream Anthropic API.
 *
 * - Children get `ANTHROPIC_UNIX_SOCKET=<socket>`, `ANTHROPIC_BASE_URL=http://localhost/a/<agent
 *   id>` and `ANTHROPIC_AUTH_TOKEN=<their proxy token>`; the CLI then sends
 *   `POST /a/<id>/v1/messages?beta=true` with `authorization: Bearer hop_…` over the socket.
 * - Routes: `POST /v1/messages`, `POST /v1/messages/count_tokens` (query kept), each optionally
 *   under `/a/<agent id>`, and `HEAD /api/hello` (no auth, forwarded without any). Anything else is
 *   404 and never forwarded. The upstream host is fixed: an absolute-form request target naming
 *   another host is refused.
 * - A request must carry exactly one credential, `authorization: Bearer <token>`, of a live agent
 *   (and of the agent its path names). Otherwise: 403 `unknown proxy token`, no upstream call. A
 *   403 (not 401) because claude gives up on a 403 at once but retries a 401 for minutes.
 * - The incoming credential is stripped, the real one injected; hop-by-hop headers are dropped both
 *   ways; statuses, `retry-after` and error bodies pass through unchanged; no retries are added.
 * - Response bodies are piped through a tap that forwards each chunk first and only then counts
 *   usage, so streams are never buffered (and a paused client pauses the upstream read).
 * @module
 */
import type { ProxyTokenRecord, Store } from "../store/mod.ts";
import type { CredentialSource } from "./credential.ts";
import { escapeControl, type Log } from "@hero/service/log";
import { ProxyRecorder } from "./recorder.ts";
import { tapBody, type TapSummary } from "./tap.ts";
import { verifyProxyToken } from "./token.ts";
import { readBodyLimited } from "@hero/service/body";
import {
  AGENT_PREFIX,
  apiError,
  bearerOf,
  NULL_BODY_STATUSES,
  rateLimitHeaders,
  responseHeaders,
  unknownToken,
  upstreamHeaders,
} from "./headers.ts";
import { type ConnectionLimits, serveUnix } from "@hero/service/http_server";
import { heldReason, rejectedWindow } from "./hold.ts";
import { TurnCosts } from "./turn_cost.ts";
import type { PriceTable } from "../config/mod.ts";

/** Connection limits of proxy.sock unless given: the daemon's defaults for its listeners. */
export const PROXY_CONNECTION_DEFAULTS: ConnectionLimits = {
  maxConnections: 256,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
};

export interface ProxyOptions {
  socketPath: string;
  /** Upstream base URL without a trailing slash (a path prefix is kept). */
  upstreamUrl: string;
  credentials: Pick<CredentialSource, "get">;
  store: Pick<Store, "findProxyToken" | "recordProxyActivity">;
  log: Log;
  /** Log the first 512 bytes of non-2xx upstream bodies. */
  logErrors?: boolean;
  /** Largest request body forwarded. Default 32 MiB. */
  maxRequestBytes?: number;
  /** Abort an upstream request that sent no response headers in this long. Default 10 min. */
  headersTimeoutMs?: number;
  /** Snapshot/tally batching. Default 100 ms. */
  flushMs?: number;
  /**
   * The upstream answered an agent's request 429 with unified status `rejected`: the window is
   * used up (the supervisor pauses the agent until `resetAt`, epoch ms).
   */
  onRateLimitRejected?: (
    agentId: string,
    info: { resetAt: number | null; window: string | null },
  ) => void;
  /** Prices the live tally of a turn against `max_cost_usd`. Default: the list prices. */
  prices?: PriceTable;
  /** A running agent's request was held back for its budget (the supervisor pauses it). */
  onBudgetReached?: (agentId: string, reason: string) => void;
  /** Connection cap and timeouts of proxy.sock. Default {@linkcode PROXY_CONNECTION_DEFAULTS}. */
  connections?: Partial<ConnectionLimits>;
}

/** Live counters (since the proxy started). */
export interface ProxyStats {
  socket: string;
  started_at: number;
  requests: number;
  forwarded: number;
  in_flight: number;
  refused_token: number;
  refused_other: number;
  upstream_errors: number;
  upstream_unreachable: number;
}

export interface ProxyServer {
  readonly socketPath: string;
  stats(): ProxyStats;
  /** The live cost (USD) of the agent's current turn that the CLI has not reported yet. */
  turnCostUsd(agent: { agent_id: string; num_turns: number; total_cost_usd: number }): number;
  /** Aborts in-flight upstream requests, stops listening, flushes records. Idempotent. */
  close(): Promise<void>;
}

function removeStaleSocket(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return;
  }
  if (!info.isSocket) {
    throw new Error(
      `Cannot start the proxy: ${path} exists and is not a socket; remove it by hand`,
    );
  }
  // The daemon lock is held: a socket left here belongs to a daemon that is gone.
  Deno.removeSync(path);
}

/**
 * Starts the proxy on `options.socketPath` (mode 0600; its directory is created 0700 if missing;
 * a stale socket from an earlier run is replaced). Logs the socket path and the daemon pid.
 */
export function startProxy(options: ProxyOptions): ProxyServer {
  const { socketPath, log, store } = options;
  if (new TextEncoder().encode(socketPath).length > 107) {
    throw new Error(
      `Cannot start the proxy: socket path ${socketPath} is longer than 107 bytes (sun_path)`,
    );
  }
  const maxRequestBytes = options.maxRequestBytes ?? 32 * 1024 * 1024;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10 * 60_000;
  const recorder = new ProxyRecorder(store, log, options.flushMs ?? 100);
  const turns = new TurnCosts(options.prices);
  const shutdown = new AbortController();
  const inFlight = new Set<AbortController>();
  const stats: ProxyStats = {
    socket: socketPath,
    started_at: Date.now(),
    requests: 0,
    forwarded: 0,
    in_flight: 0,
    refused_token: 0,
    refused_other: 0,
    upstream_errors: 0,
    upstream_unreachable: 0,
  };
  const base = { socket: socketPath, pid: Deno.pid };

  const refuse = (response: Response, fields: Record<string, unknown>): Response => {
    stats.refused_other++;
    log("warn", "proxy request refused", { ...base, ...fields, status: response.status });
    return response;
  };

  async function forward(
    req: Request,
    method: string,
    path: string,
    search: string,
    agent: ProxyTokenRecord | null,
  ): Promise<Response> {
    const body = method === "POST" ? await readBodyLimited(req, maxRequestBytes) : null;
    if (method === "POST" && body === null) {
      return refuse(
        apiError(413, "request_too_large", `Request exceeds ${maxRequestBytes} bytes`),
        { method, path, agent: agent?.agent_id ?? null },
      );
    }
    const credential = agent ? options.credentials.get() : null;
    if (agent && !credential) {
      stats.refused_other++;
      log("error", "proxy has no upstream credential", { ...base, agent: agent.agent_id });
      return apiError(
        401,
        "authentication_error",
        "hero_orchestrator proxy: no upstream credential is configured",
      );
    }
    const headers = upstreamHeaders(req.headers, credential);
    const hadAuthorization = req.headers.has("authorization");
    const hadBeta = req.headers.has("anthropic-beta");
    const abort = new AbortController();
    inFlight.add(abort);
    stats.in_flight = inFlight.size;
    const onShutdown = () => abort.abort(new Error("proxy closing"));
    shutdown.signal.addEventListener("abort", onShutdown, { once: true });
    const headersTimer = setTimeout(
      () => abort.abort(new Error(`no response headers in ${headersTimeoutMs} ms`)),
      headersTimeoutMs,
    );
    const done = () => {
      clearTimeout(headersTimer);
      shutdown.signal.removeEventListener("abort", onShutdown);
      inFlight.delete(abort);
      stats.in_flight = inFlight.size;
    };
    const started = Date.now();
    let upstream: Response;
    try {
      stats.forwarded++;
      upstream = await fetch(`${options.upstreamUrl}${path}${search}`, {
        method,
        headers,
        body: body && body.length > 0 ? body : null,
        redirect: "manual",
        signal: abort.signal,
      });
    } catch (err) {
      done();
      stats.upstream_unreachable++;
      const reason = err instanceof Error ? err.message : String(err);
      log("error", "proxy cannot reach the upstream", {
        ...base,
        method,
        path: escapeControl(path),
        agent: agent?.agent_id ?? null,
        error: escapeControl(reason),
      });
      if (agent) {
        recorder.tally({
          agent_id: agent.agent_id,
          ts: Date.now(),
          status: 502,
          error: true,
          input_tokens: 0,
          output_tokens: 0,
          cache_read_tokens: 0,
          cache_creation_tokens: 0,
          bytes_in: body?.length ?? 0,
          bytes_out: 0,
        });
      }
      return apiError(502, "api_error", `hero_orchestrator proxy: upstream unreachable`);
    }
    clearTimeout(headersTimer);
    const status = upstream.status;
    const requestId = upstream.headers.get("request-id");
    const limits = rateLimitHeaders(upstream.headers);
    if (limits) {
      recorder.snapshot({
        ts: Date.now(),
        agent_id: agent?.agent_id ?? null,
        method,
        path,
        status,
        request_id: requestId,
        headers: limits,
      });
    }
    if (
      agent && status === 429 &&
      upstream.headers.get("anthropic-ratelimit-unified-status") === "rejected"
    ) {
      try {
        options.onRateLimitRejected?.(agent.agent_id, rejectedWindow(upstream.headers));
      } catch (err) {
        log("error", "Cannot pause for the rate limit", { ...base, error: String(err) });
      }
    }
    const ok = status >= 200 && status < 300;
    const errorFields = {
      ...base,
      method,
      path: escapeControl(path),
      status,
      request_id: requestId === null ? null : escapeControl(requestId),
      authorization: hadAuthorization,
      anthropic_beta: hadBeta,
      agent: agent?.agent_id ?? null,
      ms: Date.now() - started,
    };
    if (!ok) {
      stats.upstream_errors++;
      if (!options.logErrors || !upstream.body) log("warn", "upstream error", errorFields);
    }
    const contentType = upstream.headers.get("content-type") ?? "";
    const onEnd = (summary: TapSummary) => {
      done();
      if (!ok && options.logErrors && upstream.body) {
        log("warn", "upstream error", {
          ...errorFields,
          body: escapeControl(summary.head ?? ""),
        });
      }
      if (agent) {
        turns.add(agent, summary.model, summary);
        recorder.tally({
          agent_id: agent.agent_id,
          ts: Date.now(),
          status,
          error: !ok,
          input_tokens: summary.input_tokens,
          output_tokens: summary.output_tokens,
          cache_read_tokens: summary.cache_read_tokens,
          cache_creation_tokens: summary.cache_creation_tokens,
          bytes_in: body?.length ?? 0,
          bytes_out: summary.bytes,
        });
      }
    };
    if (!upstream.body || NULL_BODY_STATUSES.has(status) || method === "HEAD") {
      await upstream.body?.cancel().catch(() => {});
      onEnd({
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
        bytes: 0,
        head: null,
        cancelled: false,
      });
      return new Response(null, {
        status,
        statusText: upstream.statusText,
        headers: responseHeaders(upstream.headers),
      });
    }
    const tapped = tapBody(upstream.body, {
      sse: contentType.includes("text/event-stream"),
      headBytes: !ok && options.logErrors ? 512 : 0,
      onEnd,
    });
    return new Response(tapped, {
      status,
      statusText: upstream.statusText,
      headers: responseHeaders(upstream.headers),
    });
  }

  async function handle(req: Request): Promise<Response> {
    stats.requests++;
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return refuse(apiError(400, "invalid_request_error", "Bad request target"), {});
    }
    const method = req.method;
    // Origin-form targets arrive as http+unix://<Host header>/…; an absolute-form target as its
    // own URL. Either way only "localhost" is this proxy: the upstream host is fixed.
    const hostHeader = (req.headers.get("host") ?? "localhost").toLowerCase();
    if (
      (url.protocol !== "http+unix:" && url.protocol !== "http:") || url.hostname !== "localhost" ||
      url.port !== "" || !/^localhost(:\d+)?$/.test(hostHeader) || url.username || url.password
    ) {
      await req.body?.cancel().catch(() => {});
      return refuse(
        apiError(400, "invalid_request_error", "This proxy serves only http://localhost/"),
        { method, target: escapeControl(req.url.slice(0, 200)) },
      );
    }
    let path = url.pathname;
    let claimed: string | null = null;
    const prefixed = AGENT_PREFIX.exec(path);
    if (prefixed) {
      claimed = prefixed[1]!;
      path = prefixed[2]!;
    }
    if (path === "/api/hello" && (method === "HEAD" || method === "GET")) {
      // The CLI's startup probe carries no credential; it is forwarded without one.
      return await forward(req, "HEAD", path, "", null);
    }
    const isMessages = path === "/v1/messages" || path === "/v1/messages/count_tokens";
    if (!isMessages || method !== "POST") {
      await req.body?.cancel().catch(() => {});
      return refuse(apiError(404, "not_found_error", `Not found: ${method} ${path}`), {
        method,
        path: escapeControl(path),
      });
    }
    // Exactly one credential, a Bearer token, and none in the query string.
    const presented = bearerOf(req.headers);
    const apiKey = req.headers.has("x-api-key");
    const inQuery = /hop_|token|key/i.test(url.search);
    const check = apiKey || inQuery
      ? { ok: false as const, reason: apiKey ? "x-api-key" : "token in query", agentId: null }
      : verifyProxyToken(store, presented, claimed);
    if (!check.ok) {
      stats.refused_token++;
      await req.body?.cancel().catch(() => {});
      log("warn", "proxy token refused", {
        ...base,
        reason: check.reason,
        method,
        path: escapeControl(path),
        claimed_agent: claimed === null ? null : escapeControl(claimed),
        token_agent: check.agentId,
      });
      return unknownToken();
    }
    const held = heldReason(check.record) ?? turns.held(check.record);
    if (held) {
      // Not forwarded: the agent is paused (or being paused), or over its budget.
      await req.body?.cancel().catch(() => {});
      if (held.includes("budget") && check.record.agent_status === "running") {
        try {
          options.onBudgetReached?.(check.record.agent_id, held);
        } catch (err) {
          log("error", "Cannot pause for the budget", { ...base, error: String(err) });
        }
      }
      return refuse(apiError(429, "rate_limit_error", `hero_orchestrator proxy: ${held}`), {
        method,
        path: escapeControl(path),
        agent: check.record.agent_id,
        held,
      });
    }
    return await forward(req, method, path, url.search, check.record);
  }

  Deno.mkdirSync(socketPath.slice(0, socketPath.lastIndexOf("/")) || "/", {
    recursive: true,
    mode: 0o700,
  });
  removeStaleSocket(socketPath);
  // Own accept loop: an EMFILE here must not take the daemon (and its agents) down.
  const server = serveUnix({
    path: socketPath,
    name: "proxy",
    ...PROXY_CONNECTION_DEFAULTS,
    ...options.connections,
    handler: handle,
    log: (level, message, fields) =>
      log(level === "debug" ? "info" : level, message, { ...base, ...fields }),
    onError(err) {
      log("error", "proxy request failed", {
        ...base,
        error: escapeControl(err instanceof Error ? err.message : String(err)),
      });
      return apiError(500, "api_error", "hero_orchestrator proxy: internal error");
    },
  });
  try {
    Deno.chmodSync(socketPath, 0o600);
  } catch (err) {
    shutdown.abort();
    void server.shutdown(0);
    throw err;
  }
  log("info", "proxy listening", { ...base, upstream: escapeControl(options.upstreamUrl) });

  let closing: Promise<void> | null = null;
  return {
    socketPath,
    stats: () => ({ ...stats, in_flight: inFlight.size }),
    turnCostUsd: (agent) => turns.current(agent),
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await server.shutdown(3_000).catch(() => {});
        recorder.close();
        try {
          Deno.removeSync(socketPath);
        } catch {
          // already gone
        }
        log("info", "proxy stopped", base);
      })();
      return closing;
    },
  };
}
