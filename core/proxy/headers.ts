/** What the quota proxy forwards and answers: header filters, rate-limit headers, tokens. */
import type { UpstreamCredential } from "./credential.ts";

/** Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded either way. */
export const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

/** Request headers the proxy sets itself or must never pass on. */
export const REQUEST_DROP = new Set([
  "host",
  "content-length",
  "authorization",
  "x-api-key",
  "accept-encoding",
  "cookie",
]);

/** Response headers that no longer describe the re-streamed body. */
export const RESPONSE_DROP = new Set(["content-length", "content-encoding"]);

export const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export const AGENT_PREFIX = /^\/a\/([A-Za-z0-9-]{1,64})(\/.*)$/;

export const OAUTH_BETA = "oauth-2025-04-20";

/** An Anthropic-shaped error body. */
export function apiError(status: number, type: string, message: string): Response {
  return Response.json({ type: "error", error: { type, message } }, { status });
}

/** The fixed answer to every bad token: nothing about why. */
export function unknownToken(): Response {
  return apiError(403, "permission_error", "unknown proxy token");
}

export function connectionListed(headers: Headers): Set<string> {
  const listed = new Set<string>();
  for (const name of (headers.get("connection") ?? "").split(",")) {
    const trimmed = name.trim().toLowerCase();
    if (trimmed) listed.add(trimmed);
  }
  return listed;
}

export function upstreamHeaders(incoming: Headers, credential: UpstreamCredential | null): Headers {
  const listed = connectionListed(incoming);
  const out = new Headers();
  incoming.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || REQUEST_DROP.has(name) || listed.has(name)) return;
    out.set(name, value);
  });
  // Identity: the body is re-streamed as is; compression over a local socket buys nothing.
  out.set("accept-encoding", "identity");
  if (credential?.kind === "api_key") out.set("x-api-key", credential.value);
  else if (credential) {
    out.set("authorization", `Bearer ${credential.value}`);
    if (credential.kind === "oauth") {
      const betas = (out.get("anthropic-beta") ?? "").split(",").map((b) => b.trim()).filter(
        Boolean,
      );
      // claude adds this beta only when it holds an OAuth token itself; the child holds ours.
      if (!betas.includes(OAUTH_BETA)) out.set("anthropic-beta", [...betas, OAUTH_BETA].join(","));
    }
  }
  return out;
}

export function responseHeaders(incoming: Headers): Headers {
  const listed = connectionListed(incoming);
  const out = new Headers();
  incoming.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || RESPONSE_DROP.has(name) || listed.has(name)) return;
    out.append(name, value);
  });
  return out;
}

export function rateLimitHeaders(headers: Headers): Record<string, string> | null {
  const found: Record<string, string> = {};
  let any = false;
  headers.forEach((value, name) => {
    if (name.startsWith("anthropic-ratelimit-")) {
      found[name] = value;
      any = true;
    }
  });
  if (!any) return null;
  const retryAfter = headers.get("retry-after");
  if (retryAfter !== null) found["retry-after"] = retryAfter;
  return found;
}

/** The bearer token of `authorization: Bearer <token>`, or null when absent or malformed. */
export function bearerOf(headers: Headers): string | null {
  const value = headers.get("authorization");
  if (value === null) return null;
  const m = /^Bearer ([^\s,]+)$/.exec(value);
  return m ? m[1]! : "";
}
