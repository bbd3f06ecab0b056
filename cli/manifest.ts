/**
 * `hero_orchestrator --info`: the manifest of the CLI, from the embedded service.toml and the
 * environment, in the same shape as the server's and the admin's. Pure: no file, socket or
 * process is touched.
 * @module
 */
import serviceToml from "./service.toml" with { type: "text" };
import { type Env, resolvePaths, SERVICE_NAME } from "@hero/core/config";
import {
  healthLocation,
  type ManifestHead,
  manifestHead,
  readServiceToml as readToml,
  serviceBinary,
  type ServiceEnv,
} from "@hero/service/service_toml";

export { renderManifest } from "@hero/service/service_toml";

/** Release version of the CLI (the contract version it was built against). */
export const CLI_VERSION = "0.1.0";
/** The binary's name. */
export const CLI_BINARY = "hero_orchestrator";
/** The embedded service.toml text. */
export const SERVICE_TOML: string = serviceToml;

/** The `--info` data. */
export interface CliManifest extends ManifestHead {
  supervised: boolean;
  openrpc: string;
  health: string;
  paths: { var: string; state: string; db: string; socket_dir: string };
  /** The CLI binds nothing. */
  sockets: Array<{ name: string; path: string; protocol: string }>;
  /** The sockets it calls. */
  connects: Array<{ name: string; path: string; protocol: string }>;
  env: ServiceEnv[];
}

/** Parses and checks the embedded service.toml; `binary` is the CLI's entry. */
export function readServiceToml(text = SERVICE_TOML) {
  const svc = readToml(text);
  return { ...svc, binary: serviceBinary(svc, CLI_BINARY) };
}

/** The manifest with paths resolved from `env` (HOME shown as `~` when unset). */
export function buildManifest(env: Env): CliManifest {
  const svc = readServiceToml();
  const paths = resolvePaths({ ...env, HOME: env.HOME || "~" });
  return {
    ...manifestHead(SERVICE_NAME, svc, svc.binary, CLI_VERSION),
    supervised: svc.binary.supervised,
    openrpc: "rpc.sock:/openrpc.json",
    health: healthLocation(svc),
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
