/**
 * `hero_orchestrator_server --info`: the manifest lab reads, built from the embedded service.toml
 * and the environment. Pure: resolving it touches no file, socket or database.
 * @module
 */
import serviceToml from "./service.toml" with { type: "text" };
import { type Env, resolvePaths, SERVICE_NAME } from "../core/config/mod.ts";
import { VERSION } from "../core/rpc/mod.ts";
import { parseToml, stringifyToml, type TomlTable } from "./toml.ts";

/** The embedded service.toml text. */
export const SERVICE_TOML: string = serviceToml;

export interface ServiceBinary {
  name: string;
  kind: string;
  sockets: string[];
  description: string;
}

export interface ServiceEnv {
  name: string;
  default: string;
  description: string;
}

export interface ServiceToml {
  name: string;
  description: string;
  category: string;
  binaries: ServiceBinary[];
  env: ServiceEnv[];
  health: { socket: string; path: string };
}

function str(table: TomlTable, key: string, where: string): string {
  const value = table[key];
  if (typeof value !== "string") {
    throw new TypeError(`Cannot read service.toml: ${where}.${key} must be a string`);
  }
  return value;
}

function tables(table: TomlTable, key: string): TomlTable[] {
  const value = table[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "object" && !Array.isArray(v))) {
    throw new TypeError(`Cannot read service.toml: [[${key}]] is missing`);
  }
  return value as TomlTable[];
}

/** Parses and checks a service.toml. */
export function readServiceToml(text: string): ServiceToml {
  const t = parseToml(text);
  const health = t.health;
  if (typeof health !== "object" || health === null || Array.isArray(health)) {
    throw new TypeError("Cannot read service.toml: [health] is missing");
  }
  const categories = ["core", "storage", "ai", "network", "ui", "tool"];
  const category = str(t, "category", "top level");
  if (!categories.includes(category)) {
    throw new TypeError(
      `Cannot read service.toml: category "${category}" is not one of ${categories.join(", ")}`,
    );
  }
  return {
    name: str(t, "name", "top level"),
    description: str(t, "description", "top level"),
    category,
    binaries: tables(t, "binaries").map((b, i) => {
      const kind = str(b, "kind", `binaries[${i}]`);
      if (!["server", "admin", "web", "cli", "cmdline"].includes(kind)) {
        throw new TypeError(`Cannot read service.toml: binaries[${i}].kind "${kind}" is unknown`);
      }
      const sockets = b.sockets ?? [];
      if (!Array.isArray(sockets) || !sockets.every((s) => typeof s === "string")) {
        throw new TypeError(`Cannot read service.toml: binaries[${i}].sockets must be strings`);
      }
      return {
        name: str(b, "name", `binaries[${i}]`),
        kind,
        sockets: sockets as string[],
        description: str(b, "description", `binaries[${i}]`),
      };
    }),
    env: tables(t, "env").map((e, i) => ({
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

export interface Manifest {
  name: string;
  binary: string;
  kind: string;
  version: string;
  description: string;
  service: string;
  category: string;
  openrpc: string;
  health: string;
  events: string;
  paths: { var: string; state: string; db: string; socket_dir: string };
  sockets: Array<{ name: string; path: string; protocol: string }>;
  env: ServiceEnv[];
}

/** The `--info` manifest of `binary`, with paths resolved from `env` (HOME shown as `~` if unset). */
export function buildManifest(env: Env, binary = "hero_orchestrator_server"): Manifest {
  const svc = readServiceToml(SERVICE_TOML);
  const bin = svc.binaries.find((b) => b.name === binary);
  if (!bin) throw new TypeError(`Cannot build the manifest: service.toml has no binary ${binary}`);
  const paths = resolvePaths({ ...env, HOME: env.HOME || "~" });
  const socketPath: Record<string, string> = { rpc: paths.rpcSocket, admin: paths.adminSocket };
  return {
    name: SERVICE_NAME,
    binary: bin.name,
    kind: bin.kind,
    version: VERSION,
    description: bin.description,
    service: svc.name,
    category: svc.category,
    openrpc: "rpc.sock:/openrpc.json",
    health: `${svc.health.socket}.sock:${svc.health.path}`,
    events: "rpc.sock:/events",
    paths: {
      var: paths.varRoot,
      state: paths.stateDir,
      db: paths.dbPath,
      socket_dir: paths.socketDir,
    },
    sockets: bin.sockets.map((name) => ({
      name,
      path: socketPath[name] ?? `${paths.socketDir}/${name}.sock`,
      protocol: name === "admin" ? "ui" : "openrpc",
    })),
    env: svc.env,
  };
}

/** `--info` output: TOML, or JSON with `--json`. */
export function renderManifest(manifest: Manifest, format: "toml" | "json"): string {
  if (format === "json") return JSON.stringify(manifest, null, 2) + "\n";
  return stringifyToml(manifest as unknown as TomlTable);
}
