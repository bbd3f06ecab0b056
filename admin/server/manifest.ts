/**
 * `hero_orchestrator_admin --info`: the manifest lab reads, from the embedded service.toml and
 * the environment. Pure: building it touches no file, socket or network.
 * @module
 */
import serviceToml from "../service.toml" with { type: "text" };
import { type Env, resolveAdminPaths, SERVICE_NAME } from "./paths.ts";
import { parseToml, stringifyToml, type TomlTable } from "./toml.ts";

/** Release version of the admin (the contract version it was built against). */
export const ADMIN_VERSION = "0.1.0";
/** The binary's name. */
export const ADMIN_BINARY = "hero_orchestrator_admin";
/** The embedded service.toml text. */
export const SERVICE_TOML: string = serviceToml;

/** The checked content of service.toml. */
export interface AdminServiceToml {
  name: string;
  description: string;
  category: string;
  binary: { name: string; kind: string; sockets: string[]; description: string };
  env: Array<{ name: string; default: string; description: string }>;
  health: { socket: string; path: string };
}

function str(table: TomlTable, key: string, where: string): string {
  const value = table[key];
  if (typeof value !== "string") {
    throw new TypeError(`Cannot read service.toml: ${where}.${key} must be a string`);
  }
  return value;
}

function tableList(table: TomlTable, key: string): TomlTable[] {
  const value = table[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "object" && !Array.isArray(v))) {
    throw new TypeError(`Cannot read service.toml: [[${key}]] is missing`);
  }
  return value as TomlTable[];
}

/** Parses and checks the admin's service.toml. */
export function readServiceToml(text: string): AdminServiceToml {
  const t = parseToml(text);
  const health = t.health;
  if (typeof health !== "object" || health === null || Array.isArray(health)) {
    throw new TypeError("Cannot read service.toml: [health] is missing");
  }
  const binaries = tableList(t, "binaries");
  const bin = binaries.find((b) => b.name === ADMIN_BINARY);
  if (!bin) throw new TypeError(`Cannot read service.toml: no [[binaries]] named ${ADMIN_BINARY}`);
  const sockets = bin.sockets;
  if (!Array.isArray(sockets) || !sockets.every((s) => typeof s === "string")) {
    throw new TypeError("Cannot read service.toml: binaries.sockets must be strings");
  }
  return {
    name: str(t, "name", "top level"),
    description: str(t, "description", "top level"),
    category: str(t, "category", "top level"),
    binary: {
      name: ADMIN_BINARY,
      kind: str(bin, "kind", "binaries"),
      sockets: sockets as string[],
      description: str(bin, "description", "binaries"),
    },
    env: tableList(t, "env").map((e, i) => ({
      name: str(e, "name", `env[${i}]`),
      default: str(e, "default", `env[${i}]`),
      description: str(e, "description", `env[${i}]`),
    })),
    health: {
      socket: str(health as TomlTable, "socket", "health"),
      path: str(health as TomlTable, "path", "health"),
    },
  };
}

/** The `--info` manifest. */
export interface AdminManifest {
  name: string;
  binary: string;
  kind: string;
  version: string;
  description: string;
  service: string;
  category: string;
  openrpc: string;
  health: string;
  upstream: string;
  paths: { socket_dir: string };
  sockets: Array<{ name: string; path: string; protocol: string }>;
  env: AdminServiceToml["env"];
}

/** Builds the manifest with paths resolved from `env` (HOME shown as `~` when unset). */
export function buildManifest(env: Env): AdminManifest {
  const svc = readServiceToml(SERVICE_TOML);
  const paths = resolveAdminPaths({ ...env, HOME: env.HOME || "~" });
  return {
    name: SERVICE_NAME,
    binary: svc.binary.name,
    kind: svc.binary.kind,
    version: ADMIN_VERSION,
    description: svc.binary.description,
    service: svc.name,
    category: svc.category,
    openrpc: "admin.sock:/openrpc.json",
    health: `${svc.health.socket}.sock:${svc.health.path}`,
    upstream: paths.rpcSocket,
    paths: { socket_dir: paths.socketDir },
    sockets: [{ name: "admin", path: paths.adminSocket, protocol: "ui" }],
    env: svc.env,
  };
}

/** `--info` output: TOML, or JSON with `--json`. */
export function renderManifest(manifest: AdminManifest, format: "toml" | "json"): string {
  if (format === "json") return JSON.stringify(manifest, null, 2) + "\n";
  return stringifyToml(manifest as unknown as TomlTable);
}
