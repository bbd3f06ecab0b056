/** Exactly one daemon may own a database: an exclusive flock held for the life of the process. */

export class DaemonLockedError extends Error {
  override name = "DaemonLockedError";
  readonly code = "busy";
  constructor(readonly lockPath: string, readonly holderPid: number | null) {
    super(
      `Cannot start daemon: ${lockPath} is held by another daemon${
        holderPid ? ` (pid ${holderPid})` : ""
      }; stop it first or point PATH_VAR elsewhere`,
    );
  }
}

export interface DaemonLock {
  readonly path: string;
  release(): void;
}

function readHolder(path: string): number | null {
  try {
    const pid = Number(Deno.readTextFileSync(path).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock or throws DaemonLockedError naming the holder. The kernel drops a flock when its
 * process dies, so a crashed daemon never leaves a stale lock behind.
 */
export function acquireDaemonLock(path: string): DaemonLock {
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  let locked = false;
  try {
    locked = file.tryLockSync(true);
  } catch (err) {
    file.close();
    throw err;
  }
  if (!locked) {
    file.close();
    throw new DaemonLockedError(path, readHolder(path));
  }
  file.truncateSync(0);
  file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        file.truncateSync(0);
        file.unlockSync();
      } finally {
        file.close();
      }
    },
  };
}
