/** Sandbox settings of claude children and the paths they must never see. Pure: no I/O. */
import type { Env, Paths } from "./paths.ts";

/** How claude children are isolated: `bwrap` (bubblewrap) or `off`. */
export const SANDBOX_MODES = ["bwrap", "off"] as const;
export type SandboxMode = typeof SANDBOX_MODES[number];

export interface SandboxSettings {
  /**
   * `HERO_ORCHESTRATOR_SANDBOX`: `bwrap` (required: the daemon refuses to start without it),
   * `off`, or unset (`auto`: bwrap when a trial run works at start, else off with a warning).
   */
  requested: SandboxMode | "auto";
  /** The bubblewrap binary (`HERO_ORCHESTRATOR_BWRAP_BIN`, default `bwrap` on PATH). */
  bin: string;
}

/**
 * Files and directories under `$HOME` nobody but the user's own tools may read: denied to the
 * server's own permissions even when `$HOME` is an agent root, and hidden inside the sandbox.
 */
export const SECRET_HOME_PATHS: readonly string[] = [
  ".ssh",
  ".gnupg",
  ".aws",
  ".azure",
  ".config/gcloud",
  ".kube",
  ".docker",
  ".netrc",
  ".git-credentials",
  ".npmrc",
  ".pypirc",
  ".pgpass",
  ".password-store",
  ".local/share/keyrings",
];

/** `SECRET_HOME_PATHS` under `env.HOME` (none without a HOME). */
export function secretHomePaths(env: Env): string[] {
  const home = env.HOME?.replace(/\/+$/, "");
  return home ? SECRET_HOME_PATHS.map((p) => `${home}/${p}`) : [];
}

/** The daemon's own claude config: its login lives here, and agents on the proxy never see it. */
export function daemonClaudeConfig(env: Env): string[] {
  if (env.CLAUDE_CONFIG_DIR) return [env.CLAUDE_CONFIG_DIR.replace(/(.)\/+$/, "$1")];
  const home = env.HOME?.replace(/\/+$/, "");
  return home ? [`${home}/.claude`, `${home}/.claude.json`] : [];
}

/**
 * What a sandboxed agent never sees: the daemon's state directory (database, WAL, lock, other
 * agents' state) and socket directory (rpc.sock, admin.sock; the proxy socket is bound back in
 * for proxied agents), and the user's secrets under `$HOME`.
 */
export function sandboxHiddenPaths(env: Env, paths: Paths): string[] {
  // The stored API key lives in the state dir unless HERO_ORCHESTRATOR_API_KEY_FILE puts it
  // elsewhere; either way no agent may read it.
  const keyFile = paths.apiKeyFile.startsWith(`${paths.stateDir}/`) ? [] : [paths.apiKeyFile];
  return [paths.stateDir, paths.socketDir, ...keyFile, ...secretHomePaths(env)];
}

export function resolveSandboxSettings(env: Env): SandboxSettings {
  const raw = env.HERO_ORCHESTRATOR_SANDBOX;
  if (raw && !(SANDBOX_MODES as readonly string[]).includes(raw)) {
    throw new RangeError(
      `Cannot read HERO_ORCHESTRATOR_SANDBOX: "${raw}" is not one of ${
        SANDBOX_MODES.join(", ")
      } (or unset for bwrap when available)`,
    );
  }
  return {
    requested: raw ? raw as SandboxMode : "auto",
    bin: env.HERO_ORCHESTRATOR_BWRAP_BIN || "bwrap",
  };
}
