/**
 * Socket directory and socket path safety for admin.sock, with the server's rules (reliability
 * targets T29, T30): the directory is ours and 0700, a stale socket is replaced only after a
 * connect to it fails, and a regular file or a symlink at the path is refused (never removed,
 * never written through). Same approach as `server/socket.ts`, kept separate so the admin binary
 * does not depend on the server.
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

function octal(info: Deno.FileInfo): string {
  return ((info.mode ?? 0) & 0o777).toString(8).padStart(4, "0");
}

/**
 * Makes sure `dir` is a directory owned by this uid with mode 0700: creates it (and missing
 * parents) when absent, whatever the umask; refuses a symlink, a foreign owner or another mode.
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
      `Cannot use socket directory ${dir}: its mode is ${
        octal(info)
      }, expected 0700 (chmod 700 it)`,
    );
  }
}

/**
 * Clears the way to bind `path`: nothing there is fine; a socket nobody answers on is removed; a
 * live socket, a regular file, a symlink or anything else is refused.
 */
export async function claimSocketPath(path: string): Promise<void> {
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
    const again = lstatOrNull(path);
    if (again && again.isSocket && !again.isSymlink) Deno.removeSync(path);
    return;
  }
  conn.close();
  throw new SocketPathError(`Cannot bind ${path}: another admin is listening on it`);
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
