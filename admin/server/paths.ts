/**
 * Socket paths of the admin, resolved from the environment exactly as the server resolves its own
 * (`core/config/paths.ts`), without importing it: root = `PATH_SOCKET`, else `HERO_SOCKET_DIR`,
 * else `$HOME/hero/var/sockets`; sockets live in `<root>/hero_orchestrator/`; the session key in
 * `<PATH_VAR or $HOME/hero/var>/hero_orchestrator/admin/`. Pure: no I/O.
 * @module
 */

/** The service (and socket directory) name. */
export const SERVICE_NAME = "hero_orchestrator";

/** Environment values as read by the composition root. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Where the admin listens and where it finds the server. */
export interface AdminPaths {
  socketRoot: string;
  /** `<socketRoot>/hero_orchestrator` */
  socketDir: string;
  /** The server's JSON-RPC socket. */
  rpcSocket: string;
  /** This binary's socket. */
  adminSocket: string;
  /**
   * `<PATH_VAR or ~/hero/var>/hero_orchestrator/admin`: the session signing key of the `--listen`
   * mode (the only place the admin writes outside the socket directory).
   */
  sessionDir: string | null;
}

function stripSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** Resolves the socket layout; throws a TypeError when no root can be derived. */
export function resolveAdminPaths(env: Env): AdminPaths {
  let root = env.PATH_SOCKET || env.HERO_SOCKET_DIR;
  if (!root) {
    if (!env.HOME) {
      throw new TypeError(
        "Cannot resolve the socket directory: HOME is not set and PATH_SOCKET is not given",
      );
    }
    root = `${env.HOME}/hero/var/sockets`;
  }
  const socketRoot = stripSlash(root);
  const socketDir = `${socketRoot}/${SERVICE_NAME}`;
  const varRoot = env.PATH_VAR || (env.HOME ? `${env.HOME}/hero/var` : null);
  return {
    sessionDir: varRoot ? `${stripSlash(varRoot)}/${SERVICE_NAME}/admin` : null,
    socketRoot,
    socketDir,
    rpcSocket: `${socketDir}/rpc.sock`,
    adminSocket: `${socketDir}/admin.sock`,
  };
}

/** A loopback TCP address for `--listen`. */
export interface ListenAddress {
  hostname: string;
  port: number;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * Parses `--listen HOST:PORT`. Only loopback hosts are accepted: the Host check and the access
 * token are built for a single-user machine, not for a network.
 */
export function parseListen(value: string): ListenAddress {
  const m = /^(\[::1\]|[^:\s]+):(\d{1,5})$/.exec(value.trim());
  if (!m) {
    throw new TypeError(`Cannot use --listen "${value}": expected HOST:PORT, e.g. 127.0.0.1:8470`);
  }
  const host = m[1]!;
  const port = Number(m[2]);
  if (port > 65535) throw new TypeError(`Cannot use --listen "${value}": port is out of range`);
  if (!LOOPBACK_HOSTS.has(host) && !/^127(\.\d{1,3}){3}$/.test(host)) {
    throw new TypeError(
      `Cannot use --listen "${value}": only loopback addresses (127.0.0.1, ::1, localhost) are allowed`,
    );
  }
  return { hostname: host === "[::1]" ? "::1" : host, port };
}
