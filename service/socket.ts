/**
 * Socket directory and socket path safety (reliability targets T29, T30): the directory is ours
 * and 0700, a stale socket is replaced only after connecting to it fails, and a regular file or a
 * symlink at the socket path is refused (never removed, never written through).
 * @module
 */

/** Refusal to start: the socket directory or path is unsafe or taken. */
export class SocketPathError extends Error {
  override name = "SocketPathError";
  readonly code = "socket_path";
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

function mode(info: Deno.FileInfo): string {
  return ((info.mode ?? 0) & 0o777).toString(8).padStart(4, "0");
}

/**
 * Makes sure `dir` is a directory owned by this uid with mode 0700. Creates it (and missing
 * parents) when absent and forces 0700 whatever the umask; refuses an existing directory that is a
 * symlink, is owned by someone else or has another mode.
 */
export function prepareSocketDir(dir: string): void {
  let info = lstatOrNull(dir);
  if (info === null) {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    info = Deno.lstatSync(dir);
  }
  if (info.isSymlink) {
    throw new SocketPathError(`Cannot use socket directory ${dir}: it is a symlink`);
  }
  if (!info.isDirectory) {
    throw new SocketPathError(`Cannot use socket directory ${dir}: it is not a directory`);
  }
  const uid = Deno.uid();
  if (uid !== null && info.uid !== uid) {
    throw new SocketPathError(
      `Cannot use socket directory ${dir}: it is owned by uid ${info.uid}, not ${uid}`,
    );
  }
  if (((info.mode ?? 0) & 0o777) !== 0o700) {
    throw new SocketPathError(
      `Cannot use socket directory ${dir}: its mode is ${mode(info)}, expected 0700 (chmod 700 it)`,
    );
  }
}

/**
 * Clears the way to bind `path` (`holder` names who would be listening, in the error): nothing there is fine; a socket nobody answers on (stale, from a
 * crashed run) is removed; a live socket, a regular file, a symlink or anything else is refused.
 */
export async function claimSocketPath(path: string, holder = "daemon"): Promise<void> {
  const info = lstatOrNull(path);
  if (info === null) return;
  if (info.isSymlink) {
    throw new SocketPathError(`Cannot bind ${path}: a symlink is there (remove it by hand)`);
  }
  if (!info.isSocket) {
    const what = info.isFile ? "a regular file" : info.isDirectory ? "a directory" : "not a socket";
    throw new SocketPathError(`Cannot bind ${path}: ${what} is there (remove it by hand)`);
  }
  let conn: Deno.UnixConn | null = null;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch {
    // Nobody listens: a stale socket. Re-check it is still a socket, then replace it.
    const again = lstatOrNull(path);
    if (again && again.isSocket && !again.isSymlink) Deno.removeSync(path);
    return;
  }
  conn.close();
  throw new SocketPathError(`Cannot bind ${path}: another ${holder} is listening on it`);
}

/** Removes our socket file at exit, if it is still a socket. */
export function removeSocket(path: string): void {
  const info = lstatOrNull(path);
  if (info?.isSocket && !info.isSymlink) {
    try {
      Deno.removeSync(path);
    } catch {
      // already gone
    }
  }
}
