/**
 * `deno task server` / `deno task start`: runs `server/main.ts` under the `server` permission set
 * of deno.json plus what depends on the environment or has no config form: `--allow-net=unix:<rpc.sock>`
 * (binding and probing the socket), `--allow-run=<claude bin>,kill,ps` when the binary is a path,
 * and `--allow-sys` (umask, uid).
 * Signals are forwarded; the exit code is the daemon's.
 * @module
 */
import { resolveEngineSettings, resolvePaths } from "../core/config/mod.ts";

/** The `deno run` arguments that start the daemon for `env`. */
export function serverArgs(
  env: Record<string, string | undefined>,
  extra: string[] = [],
): string[] {
  const paths = resolvePaths(env);
  const { claude } = resolveEngineSettings(env);
  // sys: umask (private modes whatever the parent's umask; Deno has no narrower grant for it)
  // and uid (the socket directory owner check).
  const args = ["run", "-P=server", "--allow-sys", `--allow-net=unix:${paths.rpcSocket}`];
  // A flag replaces the set's run list (it does not add to it): repeat kill and ps.
  if (claude.bin !== "claude") args.push(`--allow-run=${claude.bin},kill,ps`);
  args.push(new URL("../server/main.ts", import.meta.url).pathname, ...extra);
  return args;
}

if (import.meta.main) {
  const child = new Deno.Command(Deno.execPath(), {
    args: serverArgs(Deno.env.toObject(), Deno.args),
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    });
  }
  const status = await child.status;
  Deno.exit(status.code);
}
