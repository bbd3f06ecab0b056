/**
 * Home MCP settings (hero_conventions.md §6): where the hero_router MCP gateway of a Hero service
 * is, and which working directory an agent created for a home service runs in when the caller
 * gives none. Pure: no I/O.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `HERO_ROUTER_URL` | `http://127.0.0.1:9988` | hero_router's base URL (what claude connects to) |
 * | `HERO_ORCHESTRATOR_MCP_PATH_TEMPLATE` | `/mcp/{service}` | gateway path of one service |
 * | `HERO_ORCHESTRATOR_HOME_CWDS` | – | `hero_books=/srv/books,hero_foo=/srv/foo`: cwd per home service |
 * | `HERO_ORCHESTRATOR_HOME_DEFAULT_CWD` | – | cwd for a home service missing from the list above |
 * @module
 */
import type { Env } from "./paths.ts";

/** A canonical Hero service name: what `home_mcp` must look like. */
export const HOME_MCP_PATTERN: RegExp = /^hero_[a-z0-9_]+$/;
/** Longest accepted service name. */
export const MAX_HOME_MCP_LENGTH = 64;

export const DEFAULT_ROUTER_URL = "http://127.0.0.1:9988";
export const DEFAULT_MCP_PATH_TEMPLATE = "/mcp/{service}";

export interface HomeMcpSettings {
  /** hero_router's base URL without a trailing slash. */
  routerUrl: string;
  /** Path of one service's MCP endpoint; `{service}` is replaced by the service name. */
  pathTemplate: string;
  /** Default working directory per home service. */
  cwds: Readonly<Record<string, string>>;
  /** Working directory of a home service without an entry in `cwds`; null: the caller must give one. */
  defaultCwd: string | null;
}

/** True for a canonical service name (`hero_books`). */
export function isHomeMcp(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_HOME_MCP_LENGTH &&
    HOME_MCP_PATTERN.test(value);
}

function routerUrl(env: Env): string {
  const raw = env.HERO_ROUTER_URL || DEFAULT_ROUTER_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError(`Cannot read HERO_ROUTER_URL: "${raw}" is not a URL`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw new RangeError(
      `Cannot read HERO_ROUTER_URL: "${raw}" must be an http(s) URL without query or fragment`,
    );
  }
  if (url.username || url.password) {
    throw new RangeError("Cannot read HERO_ROUTER_URL: credentials in the URL are not allowed");
  }
  return url.href.replace(/\/+$/, "");
}

function pathTemplate(env: Env): string {
  const raw = env.HERO_ORCHESTRATOR_MCP_PATH_TEMPLATE || DEFAULT_MCP_PATH_TEMPLATE;
  if (!raw.startsWith("/") || !raw.includes("{service}") || /[\s?#]/.test(raw)) {
    throw new RangeError(
      `Cannot read HERO_ORCHESTRATOR_MCP_PATH_TEMPLATE: "${raw}" must be a path starting with / that contains {service}`,
    );
  }
  return raw;
}

function absolute(name: string, path: string): string {
  if (!path.startsWith("/")) {
    throw new RangeError(`Cannot read ${name}: "${path}" is not an absolute path`);
  }
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

function homeCwds(env: Env): Record<string, string> {
  const name = "HERO_ORCHESTRATOR_HOME_CWDS";
  const raw = env[name];
  const out: Record<string, string> = Object.create(null);
  if (!raw) return out;
  for (const entry of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const eq = entry.indexOf("=");
    const service = eq > 0 ? entry.slice(0, eq).trim() : "";
    if (!isHomeMcp(service)) {
      throw new RangeError(
        `Cannot read ${name}: "${entry}" is not <service>=<absolute path> with a service like hero_books`,
      );
    }
    out[service] = absolute(name, entry.slice(eq + 1).trim());
  }
  return out;
}

/** Reads the home MCP settings; throws a RangeError naming the variable at fault. */
export function resolveHomeMcpSettings(env: Env): HomeMcpSettings {
  const fallback = env.HERO_ORCHESTRATOR_HOME_DEFAULT_CWD;
  return {
    routerUrl: routerUrl(env),
    pathTemplate: pathTemplate(env),
    cwds: homeCwds(env),
    defaultCwd: fallback ? absolute("HERO_ORCHESTRATOR_HOME_DEFAULT_CWD", fallback) : null,
  };
}

/**
 * The gateway URL of one service.
 *
 * @example
 * ```ts
 * import { homeMcpUrl, resolveHomeMcpSettings } from "./home_mcp.ts";
 * homeMcpUrl(resolveHomeMcpSettings({}), "hero_books"); // "http://127.0.0.1:9988/mcp/hero_books"
 * ```
 */
export function homeMcpUrl(
  settings: Pick<HomeMcpSettings, "routerUrl" | "pathTemplate">,
  service: string,
): string {
  if (!isHomeMcp(service)) {
    throw new RangeError(`Cannot build a home MCP URL: "${service}" is not a service name`);
  }
  return `${settings.routerUrl}${settings.pathTemplate.replaceAll("{service}", service)}`;
}

/** The default working directory for `service`, or null when none is configured. */
export function homeCwd(
  settings: Pick<HomeMcpSettings, "cwds" | "defaultCwd">,
  service: string,
): string | null {
  return Object.hasOwn(settings.cwds, service) ? settings.cwds[service]! : settings.defaultCwd;
}
