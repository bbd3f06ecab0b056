/**
 * Request checks against DNS rebinding and cross-site requests (reliability target T31):
 * a loopback-only Host check for the TCP listener, and a same-origin check for state-changing
 * requests based on `Sec-Fetch-Site`, falling back to `Origin` against the host.
 * @module
 */

/**
 * True when a `Host` header names a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`), with
 * or without a port. A DNS-rebinding page reaches the listener with its own name in `Host`.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./guard.ts";
 * isLoopbackHost("127.0.0.1:8470"); // true
 * isLoopbackHost("evil.example:8470"); // false
 * ```
 */
export function isLoopbackHost(host: string | null): boolean {
  if (!host) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return false;
  const name = m[1]!.toLowerCase();
  if (name === "localhost" || name === "[::1]") return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return v4 !== null && v4.slice(1).every((n) => Number(n) <= 255);
}

/** What {@linkcode crossSiteReason} looks at. */
export interface SiteCheckOptions {
  /**
   * Also accept an `Origin` matching `X-Forwarded-Host` (behind a reverse proxy that rewrites
   * `Host`). Off for the loopback listener, where nothing sits in front.
   */
  trustForwardedHost?: boolean;
}

/**
 * Why a request is cross-site, or null when it is same-origin (or not from a browser at all).
 * Browsers send `Sec-Fetch-Site`; it must be `same-origin` or `none` (typed URL, bookmark).
 * Without it, an `Origin` header must name the host the request was sent to.
 */
export function crossSiteReason(headers: Headers, options: SiteCheckOptions = {}): string | null {
  const site = headers.get("sec-fetch-site");
  if (site !== null) {
    return site === "same-origin" || site === "none" ? null : `Sec-Fetch-Site is ${site}`;
  }
  const origin = headers.get("origin");
  if (origin === null) return null;
  if (origin === "null") return "Origin is null";
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return "Origin is not a URL";
  }
  const hosts = [headers.get("host")];
  if (options.trustForwardedHost) hosts.push(headers.get("x-forwarded-host"));
  for (const host of hosts) {
    if (host && host.trim().toLowerCase() === originHost) return null;
  }
  return `Origin ${originHost} is not this host`;
}

/** True for `application/json` (any parameters), the only body type `POST /rpc` takes. */
export function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  return value.split(";")[0]!.trim().toLowerCase() === "application/json";
}
