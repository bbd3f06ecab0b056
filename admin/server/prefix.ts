/**
 * `X-Forwarded-Prefix` handling (hero_conventions.md §4): hero_router mounts the admin under
 * `/hero_orchestrator/admin`, strips that prefix and names it in `X-Forwarded-Prefix`. Every URL
 * the admin writes into a page (links, assets, the RPC and event endpoints) starts with it.
 * @module
 */

const SEGMENT = /^[A-Za-z0-9._~-]+$/;
const MAX_PREFIX_LENGTH = 256;

/**
 * Normalises an `X-Forwarded-Prefix` value: `""` when absent or `/`, the prefix without its
 * trailing slash when valid, `null` when invalid (not absolute, `.`/`..` segments, empty
 * segments, characters outside the unreserved URL set, or longer than 256 characters).
 *
 * @example
 * ```ts
 * import { forwardedPrefix } from "./prefix.ts";
 * forwardedPrefix("/hero_orchestrator/admin/"); // "/hero_orchestrator/admin"
 * forwardedPrefix("javascript:alert(1)"); // null
 * ```
 */
export function forwardedPrefix(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return "";
  const trimmed = value.trim();
  if (trimmed === "" || trimmed === "/") return "";
  if (trimmed.length > MAX_PREFIX_LENGTH || !trimmed.startsWith("/")) return null;
  const segments = trimmed.replace(/\/$/, "").slice(1).split("/");
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || segment === "." || segment === "..") return null;
  }
  return `/${segments.join("/")}`;
}
