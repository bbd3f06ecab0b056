/**
 * `hero_orchestrator --info`: the manifest of the CLI, from the embedded service.toml and the
 * environment, in the same shape as the server's and the admin's. Pure: no file, socket or
 * process is touched.
 * @module
 */
import serviceToml from "./service.toml" with { type: "text" };
import { type Env, resolvePaths, SERVICE_NAME } from "../core/config/mod.ts";
// The TOML subset reader/writer is shared with the server until it moves to core/config.
import { parseToml, stringifyToml, type TomlTable } from "../server/toml.ts";

/** Release version of the CLI (the contract version it was built against). */
export const CLI_VERSION = "0.1.0";
/** The binary's name. */
export const CLI_BINARY = "hero_orchestrator";
/** The embedded service.toml text. */
export const SERVICE_TOML: string = serviceToml;

/** The `--info` data. */
export interface CliManifest {
  name: string;
  binary: string;
  kind: string;
  version: string;
  description: string;
  service: string;
  category: string;
  supervised: boolean;
  openrpc: string;
  health: string;
  paths: { var: string; state: string; db: string; socket_dir: string };
  /** The CLI binds nothing. */
  sockets: Array<{ name: string; path: string; protocol: string }>;
  /** The sockets it calls. */
  connects: Array<{ name: string; path: string; protocol: string }>;
  env: Array<{ name: string; default: string; description: string }>;
}

function str(t: TomlTable, key: string, where: string): string {
  const v = t[key];
  if (typeof v !== "string") {
    throw new TypeError(`Cannot read cli/service.toml: ${where}.${key} must be a string`);
  }
  return v;
}

/** Parses and checks the embedded service.toml. */
export function readServiceToml(text = SERVICE_TOML) {
  const t = parseToml(text);
  const bins = t.binaries;
  const env = t.env;
  const health = t.health as TomlTable | undefined;
  if (!Array.isArray(bins) || bins.length !== 1) {
    throw new TypeError("Cannot read cli/service.toml: expected one [[binaries]]");
  }
  if (!Array.isArray(env)) throw new TypeError("Cannot read cli/service.toml: [[env]] is missing");
  if (!health || typeof health !== "object") {
    throw new TypeError("Cannot read cli/service.toml: [health] is missing");
  }
  const bin = bins[0] as TomlTable;
  return {
    name: str(t, "name", "top level"),
    description: str(t, "description", "top level"),
    category: str(t, "category", "top level"),
    binary: {
      name: str(bin, "name", "binaries[0]"),
      kind: str(bin, "kind", "binaries[0]"),
      description: str(bin, "description", "binaries[0]"),
      supervised: bin.supervised === true,
    },
    env: (env as TomlTable[]).map((e, i) => ({
      name: str(e, "name", `env[${i}]`),
      default: str(e, "default", `env[${i}]`),
      description: str(e, "description", `env[${i}]`),
    })),
    health: { socket: str(health, "socket", "health"), path: str(health, "path", "health") },
  };
}

/** The manifest with paths resolved from `env` (HOME shown as `~` when unset). */
export function buildManifest(env: Env): CliManifest {
  const svc = readServiceToml();
  const paths = resolvePaths({ ...env, HOME: env.HOME || "~" });
  return {
    name: SERVICE_NAME,
    binary: svc.binary.name,
    kind: svc.binary.kind,
    version: CLI_VERSION,
    description: svc.binary.description,
    service: svc.name,
    category: svc.category,
    supervised: svc.binary.supervised,
    openrpc: "rpc.sock:/openrpc.json",
    health: `${svc.health.socket}.sock:${svc.health.path}`,
    paths: {
      var: paths.varRoot,
      state: paths.stateDir,
      db: paths.dbPath,
      socket_dir: paths.socketDir,
    },
    sockets: [],
    connects: [
      { name: "rpc", path: paths.rpcSocket, protocol: "openrpc" },
      { name: "admin", path: paths.adminSocket, protocol: "ui" },
    ],
    env: svc.env,
  };
}

/** `--info` output: TOML, or JSON with `--json`. */
export function renderManifest(manifest: CliManifest, format: "toml" | "json"): string {
  if (format === "json") return JSON.stringify(manifest, null, 2) + "\n";
  return stringifyToml(manifest as unknown as TomlTable);
}
