/**
 * The bubblewrap sandbox of claude children: the probe run once at start and the `bwrap` argv of
 * one agent. Inside, the whole filesystem is read-only, the daemon's state and socket directories
 * and the user's secrets are empty, `/tmp` is private, only the agent's working directory (and
 * what claude itself must write) is writable, and the agent is one PID namespace: when its init
 * dies, the kernel kills every process inside, however it detached itself.
 * @module
 */
import type { SandboxMode, SandboxSettings } from "../config/mod.ts";

/** What the daemon decided at start: the mode in force and why. */
export interface SandboxStatus {
  mode: SandboxMode;
  /** Why this mode is in force (shown by `doctor` and `system.info`). */
  reason: string;
}

/** Everything one spawn needs to sandbox claude (`null` or absent: no sandbox). */
export interface SandboxPolicy {
  /** The bwrap binary. */
  bin: string;
  /** Hidden from every agent: empty tmpfs over directories, `/dev/null` over files. */
  hide: string[];
  /** Also hidden from agents on the quota proxy: the daemon's own claude login. */
  hideWhenProxied: string[];
}

/** The base of every agent's sandbox: one PID namespace, the filesystem read-only, a private /tmp. */
const BASE_ARGS: readonly string[] = [
  "--die-with-parent",
  "--unshare-pid",
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--tmpfs",
  "/tmp",
];

/** What must work for the sandbox to be used: the same base, running `true`. */
const PROBE_ARGS = [
  ...BASE_ARGS,
  "--",
  "true",
];

/**
 * Decides the sandbox once at start: `off` when asked; otherwise bwrap must be present and a
 * trivial `bwrap --unshare-pid … true` must succeed. With `HERO_ORCHESTRATOR_SANDBOX=bwrap` a
 * failed probe is an error (the daemon refuses to start); unset, it falls back to `off`.
 */
export async function probeSandbox(settings: SandboxSettings): Promise<SandboxStatus> {
  if (settings.requested === "off") {
    return { mode: "off", reason: "HERO_ORCHESTRATOR_SANDBOX=off" };
  }
  let problem: string | null = null;
  try {
    const out = await new Deno.Command(settings.bin, {
      args: PROBE_ARGS,
      clearEnv: true,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
      problem = `\`${settings.bin} --unshare-pid … true\` exited with ${out.code}${
        err ? `: ${err.slice(0, 200)}` : ""
      }`;
    }
  } catch (err) {
    problem = err instanceof Deno.errors.NotFound
      ? `${settings.bin} is not installed (Debian: apt-get install bubblewrap)`
      : `Cannot run ${settings.bin}: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (problem === null) {
    return {
      mode: "bwrap",
      reason: settings.requested === "bwrap"
        ? "HERO_ORCHESTRATOR_SANDBOX=bwrap"
        : `${settings.bin} works here (default when available)`,
    };
  }
  if (settings.requested === "bwrap") {
    throw new Error(`Cannot sandbox agents (HERO_ORCHESTRATOR_SANDBOX=bwrap): ${problem}`);
  }
  return { mode: "off", reason: `${problem}; agents run unsandboxed` };
}

/** What one agent's sandbox exposes. */
export interface SandboxMounts {
  /** The verified working directory: bound read-write, and where the agent starts. */
  cwd: string;
  /** Bound read-write at the same path when they exist (claude's config dir). */
  writable: string[];
  /** Bound read-only at the same path when they exist (the MCP config file, the proxy socket). */
  readable: string[];
  /** Hidden (see {@linkcode SandboxPolicy.hide}). */
  hide: string[];
}

function kind(path: string): "dir" | "file" | null {
  try {
    return Deno.statSync(path).isDirectory ? "dir" : "file";
  } catch {
    return null;
  }
}

/** `rel` resolved against the directory `base` (both absolute results normalised). */
function resolvePath(base: string, rel: string): string {
  if (rel.startsWith("/")) return new URL(`file://${rel}`).pathname;
  return decodeURIComponent(new URL(rel, `file://${base.replace(/\/?$/, "/")}`).pathname)
    .replace(/(.)\/+$/, "$1");
}

/**
 * The git metadata an agent in `cwd` must be able to write to commit, when it lies outside `cwd`:
 * the `.git` of an enclosing repository (cwd is a subdirectory), or a worktree's git dir and the
 * common dir it shares with its main repository. Best effort: unreadable means none.
 */
export function gitMetadataDirs(cwd: string): string[] {
  try {
    for (let dir = cwd;; dir = dir.slice(0, dir.lastIndexOf("/")) || "/") {
      const dotgit = `${dir === "/" ? "" : dir}/.git`;
      let info: Deno.FileInfo | null = null;
      try {
        info = Deno.statSync(dotgit);
      } catch {
        // not here: look further up
      }
      if (info?.isDirectory) return dir === cwd ? [] : [dotgit];
      if (info?.isFile) {
        const m = /^gitdir:\s*(.+)$/m.exec(Deno.readTextFileSync(dotgit));
        if (!m) return [];
        const gitdir = resolvePath(dir, m[1]!.trim());
        const dirs = [gitdir];
        try {
          dirs.push(resolvePath(gitdir, Deno.readTextFileSync(`${gitdir}/commondir`).trim()));
        } catch {
          // a plain gitdir link, no shared common dir
        }
        return dirs;
      }
      if (dir === "/") return [];
    }
  } catch {
    return [];
  }
}

function depth(path: string): number {
  return path.split("/").filter((s) => s.length > 0).length;
}

/**
 * The argv of `bwrap` running `command` for one agent. Mounts nest by path depth, so a parent
 * mount never covers a deeper one: with cwd = `$HOME`, `~/.ssh` is still hidden; with the state
 * dir hidden, the proxied config dir inside it is still bound.
 */
export function bwrapArgs(mounts: SandboxMounts, command: string[]): string[] {
  const args = [...BASE_ARGS];
  type Mount = { path: string; args: string[]; order: number };
  const list: Mount[] = [{ path: mounts.cwd, args: ["--bind", mounts.cwd, mounts.cwd], order: 0 }];
  for (const path of mounts.hide) {
    const k = kind(path);
    if (k === "dir") list.push({ path, args: ["--tmpfs", path], order: 1 });
    else if (k === "file") list.push({ path, args: ["--ro-bind", "/dev/null", path], order: 1 });
  }
  for (const path of mounts.writable) {
    if (kind(path)) list.push({ path, args: ["--bind", path, path], order: 2 });
  }
  for (const path of mounts.readable) {
    if (kind(path)) list.push({ path, args: ["--ro-bind", path, path], order: 2 });
  }
  // Shallower first; at equal depth an exposure comes after a hide of the same path.
  list.sort((a, b) => depth(a.path) - depth(b.path) || a.order - b.order);
  for (const m of list) args.push(...m.args);
  args.push("--chdir", mounts.cwd, "--", ...command);
  return args;
}
