/**
 * `hero_orchestrator_server --info`: the manifest lab reads, built from the embedded service.toml
 * and the environment. Pure: resolving it touches no file, socket or database.
 * @module
 */
import serviceToml from "./service.toml" with { type: "text" };
import { type Env, resolvePaths, SERVICE_NAME } from "@hero/core/config";
import { VERSION } from "@hero/core/rpc";
import {
  healthLocation,
  type ManifestHead,
  manifestHead,
  readServiceToml,
  serviceBinary,
  type ServiceEnv,
} from "@hero/service/service_toml";

export { readServiceToml, renderManifest } from "@hero/service/service_toml";

/** The embedded service.toml text. */
export const SERVICE_TOML: string = serviceToml;

export interface Manifest extends ManifestHead {
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
  const bin = serviceBinary(svc, binary);
  const paths = resolvePaths({ ...env, HOME: env.HOME || "~" });
  const socketPath: Record<string, string> = { rpc: paths.rpcSocket, admin: paths.adminSocket };
  return {
    ...manifestHead(SERVICE_NAME, svc, bin, VERSION),
    openrpc: "rpc.sock:/openrpc.json",
    health: healthLocation(svc),
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
