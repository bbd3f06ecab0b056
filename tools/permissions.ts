/**
 * The permissions of each binary, computed from the configuration the binary itself reads.
 *
 * deno.json holds one named set per binary (`-P=server|admin|cli`) with what is the same on every
 * machine: the environment variable names it reads (and `ANTHROPIC_API_KEY` denied), the programs
 * it runs, `sys`. Permission sets cannot expand `~` or `$HOME` (a path in a set is taken relative
 * to deno.json), so everything that depends on this user's install (the var and socket paths,
 * the claude binary, the agents' roots, the upstream host, the `--listen` address) is added as
 * `--allow-*` flags computed here with `core/config`. A flag replaces the set's entry of the same
 * kind (it does not add to it), so each flag below is complete for its kind.
 *
 * Used by `deno task server|admin|cli|start|compile` (through `$(deno run -P=launch
 * tools/permissions.ts <name>)`), by `tools/start.ts`, `tools/compile.ts` and the tests that run the
 * binaries with exactly these flags.
 * @module
 */
import { parseArgs } from "node:util";
import {
  type Env,
  resolveEngineSettings,
  resolvePaths,
  SECRET_HOME_PATHS,
  secretHomePaths,
} from "@hero/core/config";
import denoJson from "../deno.json" with { type: "json" };

/** Re-exported: the `$HOME` secrets denied to the server (and hidden from sandboxed agents). */
export { SECRET_HOME_PATHS };

/** The three shipping binaries, by permission set name. */
export const BINARIES = {
  server: { name: "hero_orchestrator_server", entry: "server/main.ts" },
  admin: { name: "hero_orchestrator_admin", entry: "admin/main.ts" },
  cli: { name: "hero_orchestrator", entry: "cli/main.ts" },
} as const;

/** A permission set name in deno.json. */
export type BinaryName = keyof typeof BINARIES;

/** The repository root (absolute, no trailing slash). */
export const REPO_ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname)
  .replace(/\/$/, "");

/**
 * The line writer's worker module. A worker's modules must be readable (its whole import graph,
 * which stays inside `core/store`), or, compiled, embedded with `--include`.
 */
export const WRITER_WORKER = `${REPO_ROOT}/core/store/writer_worker.ts`;

/** What the server reads of the repository when run from it: the writer worker's modules. */
const WRITER_WORKER_DIR = `${REPO_ROOT}/core/store`;

/** Options of {@linkcode permissionFlags}. */
export interface FlagOptions {
  /** admin: the `--listen HOST:PORT` address (adds a TCP grant for exactly that address). */
  listen?: string;
  /**
   * For `deno compile`: the admin's assets are embedded, so no repository path is granted.
   * Default false (`deno run` from the repository).
   */
  compiled?: boolean;
}

function uniq(values: Array<string | null | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === "string" && v !== ""))];
}

function flag(kind: string, values: Array<string | null | undefined>): string[] {
  const list = uniq(values);
  if (list.some((v) => v.includes(","))) {
    throw new RangeError(`Cannot grant ${kind} for ${list.join(" ")}: a comma is not allowed`);
  }
  return list.length > 0 ? [`--${kind}=${list.join(",")}`] : [];
}

/** The claude OAuth credentials file the server's proxy reads (never the rest of the dir). */
function credentialsFile(env: Env): string | null {
  const dir = env.CLAUDE_CONFIG_DIR || (env.HOME ? `${env.HOME}/.claude` : null);
  return dir ? `${dir.replace(/\/+$/, "")}/.credentials.json` : null;
}

/**
 * Claude Code's session files (`<config dir>/projects`), which `session.import` reads: only that
 * folder, never the config dir's settings, credentials or history.
 */
function claudeProjectsDir(env: Env): string | null {
  const dir = env.CLAUDE_CONFIG_DIR || (env.HOME ? `${env.HOME}/.claude` : null);
  return dir ? `${dir.replace(/\/+$/, "")}/projects` : null;
}

/**
 * Where agents may work (the server resolves and stats each cwd): `HERO_ORCHESTRATOR_ALLOWED_ROOTS`,
 * else `$HOME`; plus the home widget's working directories (`HERO_ORCHESTRATOR_HOME_CWDS`
 * `name=path` pairs and `HERO_ORCHESTRATOR_HOME_DEFAULT_CWD`).
 */
export function agentRoots(env: Env): string[] {
  const split = (raw: string | undefined) =>
    raw ? raw.split(",").map((r) => r.trim()).filter((r) => r.length > 0) : [];
  const roots = split(env.HERO_ORCHESTRATOR_ALLOWED_ROOTS);
  const home = split(env.HERO_ORCHESTRATOR_HOME_CWDS)
    .map((pair) => pair.slice(pair.indexOf("=") + 1).trim().replace(/(.)\/+$/, "$1"));
  if (env.HERO_ORCHESTRATOR_HOME_DEFAULT_CWD) {
    home.push(env.HERO_ORCHESTRATOR_HOME_DEFAULT_CWD.trim());
  }
  const base = roots.length > 0 ? roots : env.HOME ? [env.HOME] : [];
  return uniq([...base, ...home.filter((p) => p.startsWith("/"))]);
}

/** The directory of an API key file outside the state directory; null inside it. */
function keyFileDir(file: string, stateDir: string): string | null {
  if (file.startsWith(`${stateDir}/`)) return null;
  return file.slice(0, file.lastIndexOf("/")) || "/";
}

/** `host:port` of an http(s) URL, for `--allow-net`. */
function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
}

/** The env names of a set in deno.json (its allow list), for extending it with more names. */
export function setEnvNames(binary: BinaryName): string[] {
  const env = (denoJson.permissions[binary] as { env?: unknown }).env;
  if (Array.isArray(env)) return env as string[];
  if (env && typeof env === "object" && Array.isArray((env as { allow?: unknown }).allow)) {
    return (env as { allow: string[] }).allow;
  }
  return [];
}

/**
 * The flags added to `-P=<binary>` for the install that `env` describes. Throws when the
 * configuration is invalid (the same error the binary would give).
 */
export function permissionFlags(
  binary: BinaryName,
  env: Env,
  options: FlagOptions = {},
): string[] {
  const paths = resolvePaths(env);
  const flags: string[] = ["--no-prompt"];
  if (binary === "server") {
    const settings = resolveEngineSettings(env);
    const proxySocket = paths.proxySocket;
    const upstream = settings.proxy.scope !== "off" || settings.usage.pollIntervalMs > 0
      ? [hostPort(settings.proxy.upstreamUrl), hostPort(settings.usage.pollUrl)]
      : [];
    flags.push(
      ...flag("allow-read", [
        paths.stateDir,
        paths.socketDir,
        credentialsFile(env),
        claudeProjectsDir(env),
        // A key file elsewhere (HERO_ORCHESTRATOR_API_KEY_FILE): its directory, for the
        // temp-file-and-rename that stores it.
        keyFileDir(paths.apiKeyFile, paths.stateDir),
        ...agentRoots(env),
        // A sandboxed spawn checks that claude exists first (bwrap would only exit 1).
        ...pathCandidates(settings.claude.bin, env),
        options.compiled ? null : WRITER_WORKER_DIR,
      ]),
      ...flag("deny-read", secretHomePaths(env)),
      ...flag("allow-write", [
        paths.stateDir,
        paths.socketDir,
        keyFileDir(paths.apiKeyFile, paths.stateDir),
      ]),
      ...flag("allow-net", [
        `unix:${paths.rpcSocket}`,
        `unix:${proxySocket}`,
        ...upstream,
        settings.notify.url ? hostPort(settings.notify.url) : null,
      ]),
      // prlimit: the open-file limit (Deno has no getrlimit/setrlimit; FFI is denied).
      // setsid: starts each claude child as its own session without forking the daemon.
      // bwrap: every claude child runs inside it (unless HERO_ORCHESTRATOR_SANDBOX=off).
      ...flag("allow-run", [
        settings.claude.bin,
        "kill",
        "ps",
        "git",
        "prlimit",
        "setsid",
        settings.sandbox.requested === "off" ? null : settings.sandbox.bin,
      ]),
    );
    // Extra names passed to claude children must be readable to be passed.
    if (settings.claude.extraEnv.length > 0) {
      flags.push(...flag("allow-env", [...setEnvNames("server"), ...settings.claude.extraEnv]));
    }
  } else if (binary === "admin") {
    flags.push(
      // The session signing key of --listen (admin/server/access_token.ts): that directory only.
      ...flag("allow-read", [
        paths.socketDir,
        `${paths.stateDir}/admin`,
        options.compiled ? null : `${REPO_ROOT}/admin/dist`,
      ]),
      ...flag("allow-write", [paths.socketDir, `${paths.stateDir}/admin`]),
      ...flag("allow-net", [
        `unix:${paths.adminSocket}`,
        `unix:${paths.rpcSocket}`,
        // Deno.createHttpClient over a Unix socket checks the URL host too.
        "localhost:80",
        options.listen ? listenHostPort(options.listen) : null,
      ]),
    );
  } else {
    const claudeBin = resolveEngineSettings(env).claude.bin;
    flags.push(
      ...flag("allow-read", [
        paths.stateDir,
        paths.socketDir,
        ...pathCandidates(claudeBin, env),
      ]),
      // Connecting to a Unix socket needs write access to the socket file (only the files).
      ...flag("allow-write", [paths.rpcSocket, paths.adminSocket]),
      ...flag("allow-net", [
        `unix:${paths.rpcSocket}`,
        `unix:${paths.adminSocket}`,
        "localhost:80",
      ]),
      ...flag("allow-run", [claudeBin]),
    );
  }
  return flags;
}

/**
 * Where the CLI may look for the claude binary to show its path: the binary itself when it is a
 * path, else `<dir>/claude` for each directory of PATH (files, not directories).
 */
function pathCandidates(bin: string, env: Env): string[] {
  if (bin.includes("/")) return [bin];
  return (env.PATH ?? "").split(":").filter((d) => d.startsWith("/")).map((d) =>
    `${d.replace(/\/+$/, "")}/${bin}`
  );
}

/** `127.0.0.1:8470` → the same; `[::1]:8470` → `[::1]:8470`; `localhost:0` → `localhost:0`. */
function listenHostPort(listen: string): string {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(listen.trim());
  if (!m) throw new RangeError(`Cannot use --listen "${listen}": expected HOST:PORT`);
  return `${m[1]}:${m[2]}`;
}

/** `deno run` and its flags for a binary, without the entry point. */
export function runFlags(binary: BinaryName, env: Env, options: FlagOptions = {}): string[] {
  return [
    "run",
    // -q: no "permissions in the config file are experimental" warning among the JSON logs.
    "-q",
    `--config=${REPO_ROOT}/deno.json`,
    `-P=${binary}`,
    ...v8Flags(binary),
    ...permissionFlags(binary, env, options),
  ];
}

/**
 * V8 settings of a binary, for `deno run` and baked in by `deno compile`. The daemon caps V8's
 * young generation at 8 MiB per semi-space: with a hundred agents streaming, V8 otherwise grows it
 * to 16 MiB (its default cap) and keeps ~25 MB more heap committed for a live heap of ~20 MB
 * (bench concurrency: RSS peak 196–218 MB → 150–160 MB, same CPU share).
 */
export function v8Flags(binary: BinaryName): string[] {
  return binary === "server" ? ["--v8-flags=--max-semi-space-size=8"] : [];
}

/** The complete `deno run` arguments of a binary (before its own arguments). */
export function runArgs(binary: BinaryName, env: Env, options: FlagOptions = {}): string[] {
  return [...runFlags(binary, env, options), `${REPO_ROOT}/${BINARIES[binary].entry}`];
}

/**
 * The flags of the launchers themselves: `start` spawns exactly this deno and probes the sockets;
 * `compile` spawns deno and writes `dist/`.
 */
export function launcherFlags(name: "start" | "compile", env: Env): string[] {
  const execPath = Deno.execPath();
  if (name === "compile") {
    return ["--no-prompt", `--allow-run=${execPath}`, `--allow-write=${REPO_ROOT}/dist`];
  }
  const paths = resolvePaths(env);
  return [
    "--no-prompt",
    `--allow-run=${execPath}`,
    // Probing a Unix socket needs write access to the socket file.
    `--allow-write=${paths.rpcSocket},${paths.adminSocket}`,
    `--allow-net=unix:${paths.rpcSocket},unix:${paths.adminSocket},localhost:80`,
    // umask 077 for the children (they set it too); Deno has no scoped grant for umask.
    "--allow-sys",
  ];
}

/** Quotes nothing: refuses what the task shell would split or expand. */
function shellSafe(flags: string[]): string {
  for (const f of flags) {
    if (/[\s'"`$\\;&|<>()]/.test(f)) {
      throw new RangeError(
        `Cannot pass ${f} through deno task: it contains whitespace or a shell character; ` +
          `choose PATH_VAR/PATH_SOCKET/HOME without them`,
      );
    }
  }
  return flags.join(" ");
}

const USAGE =
  `Usage: deno run -P=launch tools/permissions.ts <server|admin|cli|start|compile> [--listen HOST:PORT]

Prints the permission flags to add to \`deno run -P=<set>\` for this environment.`;

if (import.meta.main) {
  try {
    const { values, positionals } = parseArgs({
      args: Deno.args,
      options: { listen: { type: "string" }, compiled: { type: "boolean" } },
      allowPositionals: true,
    });
    const name = positionals[0];
    const env = Deno.env.toObject();
    let flags: string[];
    if (name === "start" || name === "compile") flags = launcherFlags(name, env);
    else if (name === "server" || name === "admin" || name === "cli") {
      flags = [
        ...v8Flags(name),
        ...permissionFlags(name, env, {
          ...(values.listen ? { listen: values.listen } : {}),
          compiled: values.compiled ?? false,
        }),
      ];
    } else {
      console.error(USAGE);
      Deno.exit(2);
    }
    console.log(shellSafe(flags));
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
