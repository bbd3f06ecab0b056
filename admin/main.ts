/**
 * hero_orchestrator_admin: the composition root of the operator dashboard.
 *
 * `--info` / `--info --json` print the manifest and exit 0 before any side effect. Otherwise the
 * built assets are loaded, then either admin.sock is bound (directory 0700, socket 0600, stale and
 * planted paths handled as the server does) or, with `--listen 127.0.0.1:PORT`, a loopback TCP
 * listener protected by a one-time-printed, one-time-usable access token (sessions are signed with a
 * key kept in the var dir, so they outlive a restart). SIGTERM/SIGINT: stop accepting, end the
 * event streams, remove the socket, exit 0.
 * @module
 */
import { parseArgs } from "node:util";
import { AccessToken, loadSessionSecret } from "./server/access_token.ts";
import { createAdminApp } from "./server/app.ts";
import { AssetStore } from "./server/assets.ts";
import { createLogger, type Log } from "@hero/service/log";
import { buildManifest, renderManifest } from "./server/manifest.ts";
import { type ListenAddress, parseListen, resolveAdminPaths } from "./server/paths.ts";
import { EventRelay } from "./server/relay.ts";
import { claimSocketPath, prepareSocketDir, removeSocket } from "@hero/service/socket";
import {
  type ConnectionLimits,
  type HttpServer,
  serveTcp,
  serveUnix,
} from "@hero/service/http_server";

/**
 * admin.sock's and `--listen`'s limits: a browser keeps a few connections (one event stream);
 * the cap keeps a flood from exhausting descriptors, and an EMFILE no longer ends the process.
 */
const ADMIN_LIMITS: ConnectionLimits = {
  maxConnections: 128,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
};
import { errorText, unixUpstream } from "./server/upstream.ts";

/** The environment variables the admin reads (and nothing else). */
export const ENV_NAMES = [
  "PATH_SOCKET",
  "HERO_SOCKET_DIR",
  "PATH_VAR",
  "HOME",
  "HERO_ORCHESTRATOR_LOG_LEVEL",
];

function readEnv(): Record<string, string | undefined> {
  return Object.fromEntries(ENV_NAMES.map((name) => [name, Deno.env.get(name)]));
}

const USAGE = `Usage: hero_orchestrator_admin [--listen HOST:PORT] [--info [--json]]

Serves the hero_orchestrator dashboard on $PATH_SOCKET/hero_orchestrator/admin.sock (mounted by
hero_router at /hero_orchestrator/admin) and talks to the server over rpc.sock in the same place.
  --listen HOST:PORT  serve on loopback TCP instead (port 0 = any free port); prints a URL with
                      a one-time access token
  --info              print the service manifest (TOML) and exit
  --json              with --info: print it as JSON
  -h, --help          print this help`;

/** Hard limit for a graceful stop. */
const SHUTDOWN_DEADLINE_MS = 10_000;
/** The built assets, next to this file. */
export const DIST_DIR = new URL("./dist/", import.meta.url);

/** A running admin (also started in-process by tests). */
export interface RunningAdmin {
  /** `unix:<path>` or `http://host:port`. */
  address: string;
  /** The URL to open in `--listen` mode (with the token), else null. */
  openUrl: string | null;
  /** Resolves once the admin has stopped. */
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

/** Options of {@linkcode startAdmin}. */
export interface StartAdminOptions {
  env: Record<string, string | undefined>;
  log: Log;
  listen?: ListenAddress;
  distDir?: URL;
  /** Access token to use instead of a random one (tests). */
  token?: string;
}

/** Loads the assets and starts listening. Throws (leaving nothing behind) when it cannot. */
export async function startAdmin(options: StartAdminOptions): Promise<RunningAdmin> {
  const { log } = options;
  const paths = resolveAdminPaths(options.env);
  const assets = await AssetStore.load(options.distDir ?? DIST_DIR);
  const upstream = unixUpstream(paths.rpcSocket);
  const relay = new EventRelay({ upstream, log });
  const onError = (err: unknown) => {
    log("error", "request failed", { error: errorText(err) });
    return new Response("Internal error", { status: 500 });
  };
  let server: HttpServer;
  let address: string;
  let openUrl: string | null = null;
  let socketPath: string | null = null;
  try {
    if (options.listen) {
      const listen = options.listen;
      let fetchHandler: ((req: Request) => Response | Promise<Response>) | null = null;
      const tcp = serveTcp({
        hostname: listen.hostname,
        port: listen.port,
        name: "admin",
        ...ADMIN_LIMITS,
        log,
        onError,
        handler: (req) =>
          fetchHandler ? fetchHandler(req) : new Response("Starting", { status: 503 }),
      });
      server = tcp;
      const addr = tcp.addr;
      if (!paths.sessionDir) {
        throw new TypeError("Cannot keep sessions: neither PATH_VAR nor HOME is set");
      }
      const access = await AccessToken.create(addr.port, {
        ...(options.token ? { token: options.token } : {}),
        secret: loadSessionSecret(paths.sessionDir),
      });
      fetchHandler = createAdminApp({ upstream, assets, relay, log, mode: "listen", access }).fetch;
      const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
      address = `http://${host}:${addr.port}`;
      openUrl = `${address}/?token=${access.token}`;
    } else {
      prepareSocketDir(paths.socketDir);
      await claimSocketPath(paths.adminSocket, "admin");
      const app = createAdminApp({ upstream, assets, relay, log, mode: "socket" });
      server = serveUnix({
        path: paths.adminSocket,
        name: "admin",
        ...ADMIN_LIMITS,
        log,
        onError,
        handler: app.fetch,
      });
      Deno.chmodSync(paths.adminSocket, 0o600);
      socketPath = paths.adminSocket;
      address = `unix:${paths.adminSocket}`;
    }
  } catch (err) {
    relay.close();
    upstream.close();
    throw err;
  }
  log("info", "listening", { address, upstream: paths.rpcSocket });

  let stopping: Promise<void> | null = null;
  const { promise: finished, resolve: done } = Promise.withResolvers<void>();
  return {
    address,
    openUrl,
    finished,
    shutdown() {
      stopping ??= (async () => {
        relay.close();
        await server.shutdown(3_000).catch(() => {});
        upstream.close();
        if (socketPath) removeSocket(socketPath);
        log("info", "stopped");
        done();
      })();
      return stopping;
    },
  };
}

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        listen: { type: "string" },
        info: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`error: ${errorText(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.info) {
    const manifest = buildManifest(readEnv());
    await Deno.stdout.write(
      new TextEncoder().encode(renderManifest(manifest, values.json ? "json" : "toml")),
    );
    return 0;
  }
  if (values.json) {
    console.error(`error: --json needs --info\n\n${USAGE}`);
    return 2;
  }
  let listen: ListenAddress | undefined;
  if (values.listen !== undefined) {
    try {
      listen = parseListen(values.listen);
    } catch (err) {
      console.error(`error: ${errorText(err)}\n\n${USAGE}`);
      return 2;
    }
  }

  const env = readEnv();
  const log = createLogger({
    level: env.HERO_ORCHESTRATOR_LOG_LEVEL,
    service: "hero_orchestrator_admin",
  });
  // The socket directory and socket are private, whatever the parent's umask.
  Deno.umask(0o077);
  let admin: RunningAdmin;
  try {
    admin = await startAdmin({ env, log, ...(listen ? { listen } : {}) });
  } catch (err) {
    log("error", "cannot start", { error: errorText(err) });
    const hint = err instanceof Deno.errors.NotCapable && listen
      ? `\nhint: grant the listener too: deno run -P=admin $(deno run -P=launch tools/permissions.ts admin --listen ${values.listen}) admin/main.ts --listen ${values.listen}`
      : "";
    console.error(`error: ${errorText(err)}${hint}`);
    return 1;
  }
  if (admin.openUrl) {
    // The only place the token is ever written.
    console.log(`hero_orchestrator_admin: open ${admin.openUrl}`);
  }

  let signalled = false;
  const onSignal = (signal: Deno.Signal) => () => {
    if (signalled) return;
    signalled = true;
    log("info", "shutting down", { signal });
    const deadline = setTimeout(() => {
      log("error", "graceful shutdown took too long; exiting");
      Deno.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    admin.shutdown().finally(() => clearTimeout(deadline));
  };
  Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));
  Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
  await admin.finished;
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
