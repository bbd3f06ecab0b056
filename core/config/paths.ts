/** Resolves the service's filesystem layout from environment values (pure: no I/O). */

export const SERVICE_NAME = "hero_orchestrator";

/** Environment values as read by the composition root; tests pass plain objects. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface Paths {
  /** `$PATH_VAR` or `~/hero/var`. */
  varRoot: string;
  /** `<varRoot>/hero_orchestrator`: database, lock file, claude config dir. */
  stateDir: string;
  dbPath: string;
  lockPath: string;
  /** `$PATH_SOCKET`, else `$HERO_SOCKET_DIR`, else `~/hero/var/sockets`. */
  socketRoot: string;
  /** `<socketRoot>/hero_orchestrator`. */
  socketDir: string;
  rpcSocket: string;
  adminSocket: string;
  /** `<socketDir>/proxy.sock`: the quota proxy claude children talk to. */
  proxySocket: string;
  /**
   * The Anthropic API key the service uses when one is stored (`cli login --api-key`):
   * `HERO_ORCHESTRATOR_API_KEY_FILE`, else `<stateDir>/api_key`. Mode 0600 or it is refused.
   */
  apiKeyFile: string;
}

function home(env: Env): string {
  const value = env.HOME;
  if (!value) {
    throw new Error("Cannot resolve paths: HOME is not set and PATH_VAR/PATH_SOCKET are not given");
  }
  return value;
}

function stripSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

export function resolvePaths(env: Env): Paths {
  const varRoot = stripSlash(env.PATH_VAR || `${home(env)}/hero/var`);
  const socketRoot = stripSlash(
    env.PATH_SOCKET || env.HERO_SOCKET_DIR || `${home(env)}/hero/var/sockets`,
  );
  const stateDir = `${varRoot}/${SERVICE_NAME}`;
  const socketDir = `${socketRoot}/${SERVICE_NAME}`;
  return {
    varRoot,
    stateDir,
    dbPath: `${stateDir}/db.sqlite`,
    lockPath: `${stateDir}/daemon.lock`,
    socketRoot,
    socketDir,
    rpcSocket: `${socketDir}/rpc.sock`,
    adminSocket: `${socketDir}/admin.sock`,
    proxySocket: `${socketDir}/proxy.sock`,
    apiKeyFile: stripSlash(env.HERO_ORCHESTRATOR_API_KEY_FILE || `${stateDir}/api_key`),
  };
}
