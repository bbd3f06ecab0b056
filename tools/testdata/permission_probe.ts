/**
 * Permission probe: tries what a permission set must deny (and a few things it must allow) and
 * prints one JSON object `{ attempt: "allowed" | "denied" | "error: …" }`. Run it with the exact
 * flags of a binary (`tools/permissions.ts runFlags`), under `deno run` or compiled.
 * Arguments: `--listen-port N` (the admin's granted port), `--allowed-run PROG` (a program the set
 * may run, for the LD_PRELOAD attempt), `--read PATH` (repeatable: `read:<PATH>` reports whether
 * that file can be read).
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "listen-port": { type: "string" },
    "allowed-run": { type: "string" },
    read: { type: "string", multiple: true },
  },
});
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
const home = env("HOME") ?? "/nonexistent";
// The admin may not read PATH_VAR: its state dir is then only guessed (and must stay unwritable).
const stateDir = `${env("PATH_VAR") ?? `${home}/var`}/hero_orchestrator`;
const socketDir = `${env("PATH_SOCKET") ?? `${home}/sockets`}/hero_orchestrator`;

type Outcome = "allowed" | "denied" | `error: ${string}`;

async function attempt(fn: () => unknown): Promise<Outcome> {
  try {
    await fn();
    return "allowed";
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      return "denied";
    }
    return `error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
}

const results: Record<string, Outcome> = {
  read_ssh: await attempt(() => Deno.readTextFileSync(`${home}/.ssh/id_ed25519`)),
  read_proc_environ: await attempt(() => Deno.readFileSync("/proc/self/environ")),
  read_etc_passwd: await attempt(() => Deno.readTextFileSync("/etc/passwd")),
  spawn_sh: await attempt(() => new Deno.Command("sh", { args: ["-c", "true"] }).outputSync()),
  env_anthropic_api_key: await attempt(() => {
    if (Deno.env.get("ANTHROPIC_API_KEY") === undefined) throw new Error("unset: not a real probe");
  }),
  env_to_object_has_key: await attempt(() => {
    if (!("ANTHROPIC_API_KEY" in Deno.env.toObject())) throw new Deno.errors.NotCapable("filtered");
  }),
  tcp_listen: await attempt(() => Deno.listen({ hostname: "127.0.0.1", port: 0 }).close()),
  tcp_connect: await attempt(() => fetch("http://127.0.0.1:8099/")),
  write_home: await attempt(() => Deno.writeTextFileSync(`${home}/probe_outside.txt`, "x")),
  write_tmp: await attempt(() => Deno.writeTextFileSync("/tmp/hero_probe_outside.txt", "x")),
  kill_pid_1: await attempt(() => Deno.kill(1, "SIGCONT")),
  ld_preload: await attempt(() =>
    new Deno.Command(values["allowed-run"] ?? "true", {
      args: ["-l"],
      env: { LD_PRELOAD: "/nonexistent/preload.so" },
      stdout: "null",
      stderr: "null",
    }).outputSync()
  ),
  // Positive controls: what the set must keep allowing.
  env_home: await attempt(() => {
    if (!Deno.env.get("HOME")) throw new Error("HOME unreadable");
  }),
  write_state_dir: await attempt(() => {
    Deno.mkdirSync(stateDir, { recursive: true });
    Deno.writeTextFileSync(`${stateDir}/probe.txt`, "x");
  }),
  read_socket_dir: await attempt(() => {
    try {
      Deno.lstatSync(socketDir);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }),
};
if (values["listen-port"]) {
  results.tcp_listen_granted = await attempt(() =>
    Deno.listen({ hostname: "127.0.0.1", port: Number(values["listen-port"]) }).close()
  );
}
for (const path of values.read ?? []) {
  results[`read:${path}`] = await attempt(() => Deno.readTextFileSync(path));
}
console.log(JSON.stringify(results));
