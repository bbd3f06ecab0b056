/**
 * `hero_orchestrator_admin --info`: the manifest lab reads, from the embedded service.toml and
 * the environment. Pure: building it touches no file, socket or network.
 * @module
 */
import serviceToml from "../service.toml" with { type: "text" };
import { type Env, resolveAdminPaths, SERVICE_NAME } from "./paths.ts";
import {
  healthLocation,
  type ManifestHead,
  manifestHead,
  readServiceToml,
  serviceBinary,
  type ServiceEnv,
} from "@hero/service/service_toml";

export { readServiceToml, renderManifest } from "@hero/service/service_toml";

/** Release version of the admin (the contract version it was built against). */
export const ADMIN_VERSION = "0.1.0";
/** The binary's name. */
export const ADMIN_BINARY = "hero_orchestrator_admin";
/** The embedded service.toml text. */
export const SERVICE_TOML: string = serviceToml;

/** The `--info` manifest. */
export interface AdminManifest extends ManifestHead {
  openrpc: string;
  health: string;
  upstream: string;
  paths: { socket_dir: string };
  sockets: Array<{ name: string; path: string; protocol: string }>;
  env: ServiceEnv[];
}

/** Builds the manifest with paths resolved from `env` (HOME shown as `~` when unset). */
export function buildManifest(env: Env): AdminManifest {
  const svc = readServiceToml(SERVICE_TOML);
  const bin = serviceBinary(svc, ADMIN_BINARY);
  const paths = resolveAdminPaths({ ...env, HOME: env.HOME || "~" });
  return {
    ...manifestHead(SERVICE_NAME, svc, bin, ADMIN_VERSION),
    openrpc: "admin.sock:/openrpc.json",
    health: healthLocation(svc),
    upstream: paths.rpcSocket,
    paths: { socket_dir: paths.socketDir },
    sockets: [{ name: "admin", path: paths.adminSocket, protocol: "ui" }],
    env: svc.env,
  };
}
