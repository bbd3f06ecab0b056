/**
 * `deno task start`: the service on this machine in one command. Runs hero_orchestrator_server
 * (JSON-RPC on rpc.sock, embedded SQLite) and hero_orchestrator_admin in its `--listen` mode on
 * 127.0.0.1 (a browser cannot open a Unix socket), each under its production permission set
 * (`tools/permissions.ts`), and prints the admin's one-time access URL. Refuses when another
 * daemon already owns the sockets. SIGINT/SIGTERM stop both; the exit code is 0 after a clean stop,
 * 1 when either could not start or died.
 *
 * Runs itself with `-P=launch` + `tools/permissions.ts start` (this deno only, the two sockets).
 * @module
 */
import { parseArgs } from "node:util";
import { type Env, resolvePaths } from "@hero/core/config";
import { TASK_COMMAND } from "@hero/core/models";
import type { ClaudeReadiness } from "@hero/core/rpc";
import { readinessLines } from "@hero/server/readiness";
import { BINARIES, type BinaryName, REPO_ROOT, runArgs } from "./permissions.ts";

/** Default admin address of `deno task start`. */
export const DEFAULT_LISTEN = "127.0.0.1:8470";

const USAGE = `Usage: deno task start [--listen HOST:PORT] [--allow-root]

Starts hero_orchestrator_server and hero_orchestrator_admin (on HOST:PORT, default
$HERO_ORCHESTRATOR_ADMIN_LISTEN or ${DEFAULT_LISTEN}; port 0 picks a free one) and prints the
admin's one-time access URL. Ctrl-C stops both. --allow-root is passed to the server (as root,
it refuses to start without IS_SANDBOX=1 or --allow-root).`;

function say(text: string): void {
  console.error(`hero_orchestrator: ${text}`);
}

/** GET /health over a Unix socket; false when nothing answers. */
export async function answers(socket: string): Promise<{ ok: boolean; pid: number | null }> {
  let client: Deno.HttpClient | null = null;
  try {
    client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
    const health = await fetch("http://localhost/health", {
      client,
      signal: AbortSignal.timeout(3_000),
    });
    await health.body?.cancel();
    if (!health.ok) return { ok: false, pid: null };
    const info = await fetch("http://localhost/rpc", {
      client,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "system.info", params: {} }),
      signal: AbortSignal.timeout(3_000),
    });
    const pid = ((await info.json()) as { result?: { pid?: number } }).result?.pid ?? null;
    return { ok: true, pid };
  } catch {
    return { ok: false, pid: null };
  } finally {
    client?.close();
  }
}

/** The server's readiness (`system.health`'s `claude`), or null when it cannot be read. */
export async function readiness(socket: string): Promise<ClaudeReadiness | null> {
  let client: Deno.HttpClient | null = null;
  try {
    client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
    const res = await fetch("http://localhost/rpc", {
      client,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "system.health", params: {} }),
      // The first check runs `claude --version` and a HEAD to the upstream, each bounded.
      signal: AbortSignal.timeout(30_000),
    });
    return ((await res.json()) as { result?: { claude?: ClaudeReadiness | null } }).result
      ?.claude ?? null;
  } catch {
    return null;
  } finally {
    client?.close();
  }
}

interface Child {
  name: BinaryName;
  process: Deno.ChildProcess;
  /** The last lines it wrote to stderr (for the error message when it dies). */
  tail: () => string;
  status: Promise<Deno.CommandStatus>;
}

/** Spawns a binary under its permission set; its stderr goes to ours (and is kept in a tail). */
function spawn(name: BinaryName, env: Env, args: string[], listen?: string): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args: [...runArgs(name, env, listen ? { listen } : {}), ...args],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of process.stderr) {
      await Deno.stderr.write(chunk);
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-2000);
    }
  })();
  return {
    name,
    process,
    tail: () => tail.trim().split("\n").slice(-3).join("\n"),
    status: process.status.then(async (s) => {
      await pump.catch(() => {});
      return s;
    }),
  };
}

function stop(child: Child): void {
  try {
    child.process.kill("SIGTERM");
  } catch {
    // already gone
  }
}

/** Reads the admin's stdout until it prints its URL; forwards everything else. */
async function readUrl(child: Child): Promise<string | null> {
  const reader = child.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += value;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const url = /\bopen (https?:\/\/\S+)/.exec(line)?.[1];
      if (url) {
        // Keep draining the rest without blocking the admin.
        (async () => {
          for (;;) {
            const next = await reader.read();
            if (next.done) return;
            await Deno.stdout.write(new TextEncoder().encode(next.value));
          }
        })().catch(() => {});
        return url;
      }
      console.log(line);
    }
  }
}

async function main(args: string[]): Promise<number> {
  let listen = DEFAULT_LISTEN;
  let allowRoot = false;
  try {
    const { values } = parseArgs({
      args,
      options: {
        listen: { type: "string" },
        "allow-root": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    allowRoot = values["allow-root"] ?? false;
    listen = values.listen ?? Deno.env.get("HERO_ORCHESTRATOR_ADMIN_LISTEN") ?? DEFAULT_LISTEN;
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const env = Deno.env.toObject();
  let paths;
  try {
    paths = resolvePaths(env);
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const running = await answers(paths.rpcSocket);
  if (running.ok) {
    console.error(
      `error: Cannot start: another hero_orchestrator_server already owns ${paths.rpcSocket}` +
        `${running.pid ? ` (pid ${running.pid})` : ""}; stop it first, or set PATH_SOCKET and ` +
        `PATH_VAR to run a second instance elsewhere`,
    );
    return 1;
  }
  // Everything the children create is private, whatever the caller's umask (they set it too).
  Deno.umask(0o077);

  say(`starting ${BINARIES.server.name} (rpc: ${paths.rpcSocket})`);
  const server = spawn("server", env, allowRoot ? ["--allow-root"] : []);
  server.process.stdout.pipeTo(Deno.stdout.writable, { preventClose: true }).catch(() => {});
  let exited = false;
  server.status.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!(await answers(paths.rpcSocket)).ok) {
    if (exited || Date.now() > deadline) {
      stop(server);
      await server.status;
      console.error(
        `error: Cannot start: ${BINARIES.server.name} ${
          exited ? "exited" : "did not answer in 60 s"
        }` +
          (server.tail() ? `:\n${server.tail()}` : ""),
      );
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  say(`starting ${BINARIES.admin.name} on ${listen}`);
  const admin = spawn("admin", env, ["--listen", listen], listen);
  const url = await readUrl(admin);
  if (!url) {
    const status = await admin.status;
    stop(server);
    await server.status;
    console.error(
      `error: Cannot start: ${BINARIES.admin.name} exited with ${status.code}` +
        (admin.tail() ? `:\n${admin.tail()}` : ""),
    );
    return 1;
  }
  const ready = await readiness(paths.rpcSocket);
  if (ready) {
    console.log(
      ready.ok
        ? "Readiness: agents can run here."
        : "Readiness: agents cannot run yet. Fix this, then restart (the dashboard shows it too):",
    );
    for (const line of readinessLines(ready)) console.log(`  ${line}`);
  }
  console.log(`hero_orchestrator is running. Open ${url}`);
  console.log(
    `(the link opens one browser session, once; to get a new one, Ctrl-C and run ` +
      `${TASK_COMMAND} start again. Ctrl-C stops both processes)`,
  );

  const { promise: signalled, resolve } = Promise.withResolvers<"signal">();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => resolve("signal"));
  }
  const first = await Promise.race([
    signalled,
    server.status.then(() => "server" as const),
    admin.status.then(() => "admin" as const),
  ]);
  if (first !== "signal") {
    say(`${first === "server" ? BINARIES.server.name : BINARIES.admin.name} exited; stopping`);
  } else say("stopping");
  stop(admin);
  await admin.status;
  stop(server);
  const serverStatus = await server.status;
  return first === "signal" && serverStatus.code === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
