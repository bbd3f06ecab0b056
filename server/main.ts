/**
 * hero_orchestrator_server: the composition root.
 *
 * `--info` / `--info --json` print the manifest and exit 0 before any side effect. Otherwise:
 * root guard (`server/root.ts`) → umask 077 → socket directory and path checks → engine (lock,
 * DB, reconciliation) → rpc.sock.
 * SIGTERM/SIGINT: stop accepting, stop agents (daemon_shutdown), checkpoint, exit 0 within 15 s.
 * @module
 */
import { parseArgs } from "node:util";
import { buildManifest, renderManifest } from "./manifest.ts";
import { startDaemon } from "./daemon.ts";
import { createLogger } from "@hero/service/log";
import { checkRoot } from "./root.ts";

const USAGE = `Usage: hero_orchestrator_server [--info [--json]] [--allow-root]

Runs the hero_orchestrator daemon on $PATH_SOCKET/hero_orchestrator/rpc.sock.
  --info         print the service manifest (TOML) and exit
  --json         with --info: print it as JSON
  --allow-root   run as root without IS_SANDBOX=1 (claude children get IS_SANDBOX=1; their
                 tools then run as root: only in a disposable sandbox)
  -h, --help     print this help`;

/** Hard limit for a graceful stop. */
const SHUTDOWN_DEADLINE_MS = 15_000;

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        info: { type: "boolean" },
        json: { type: "boolean" },
        "allow-root": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.info) {
    const manifest = buildManifest(Deno.env.toObject());
    await Deno.stdout.write(
      new TextEncoder().encode(renderManifest(manifest, values.json ? "json" : "toml")),
    );
    return 0;
  }
  if (values.json) {
    console.error(`error: --json needs --info\n\n${USAGE}`);
    return 2;
  }

  let env = Deno.env.toObject();
  const log = createLogger({ level: env.HERO_ORCHESTRATOR_LOG_LEVEL });
  const allowRoot = values["allow-root"] ?? false;
  try {
    checkRoot({ uid: Deno.uid(), isSandbox: env.IS_SANDBOX, allowRoot });
  } catch (err) {
    log("error", "cannot start", { error: err instanceof Error ? err.message : String(err) });
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  // --allow-root is the operator's decision for the children too: without IS_SANDBOX=1 claude
  // would refuse bypass mode as root and every agent would fail.
  if (allowRoot && Deno.uid() === 0) env = { ...env, IS_SANDBOX: "1" };
  // Everything the daemon creates (directories, socket, DB, WAL) is private, whatever the parent's umask.
  Deno.umask(0o077);
  let daemon;
  try {
    daemon = await startDaemon({ env, log });
  } catch (err) {
    log("error", "cannot start", { error: err instanceof Error ? err.message : String(err) });
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }

  const { promise: stopped, resolve } = Promise.withResolvers<number>();
  let signalled = false;
  const onSignal = (signal: Deno.Signal) => () => {
    if (signalled) return;
    signalled = true;
    log("info", "shutting down", { signal });
    const deadline = setTimeout(() => {
      log("error", "graceful shutdown took too long; exiting");
      Deno.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    daemon.shutdown().then(
      () => resolve(0),
      (err) => {
        log("error", "shutdown failed", { error: String(err) });
        resolve(1);
      },
    ).finally(() => clearTimeout(deadline));
  };
  Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));
  Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
  return await stopped;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
