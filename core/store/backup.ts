/**
 * Online backups through SQLite's backup API (node:sqlite `backup()`): a consistent copy of the
 * database written while the daemon runs, in steps of `BACKUP_STEP_PAGES` pages so the event loop
 * keeps turning (a write in between restarts or updates the copy; it never sees half a
 * transaction). Not `VACUUM INTO`: it works through ATTACH, which Deno's node:sqlite disables
 * unless the process has every permission, so it fails under the server's permission set.
 * @module
 */
import { backup } from "node:sqlite";
import {
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";
import { connectionOf } from "./_connection.ts";
import { messageOf, StorageError } from "./errors.ts";
import type { Store } from "./store.ts";

/** Pages copied per step of the backup between turns of the event loop. */
export const BACKUP_STEP_PAGES = 256;

/** A finished backup. */
export interface BackupFile {
  path: string;
  bytes: number;
}

/**
 * Writes a copy of `store`'s database to `dest` (mode 0600), which must not exist. The copy is
 * written under a temporary name beside it and renamed into place, so `dest` is either absent
 * or complete. Throws {@linkcode StorageError} naming `dest` when it cannot.
 */
export async function backupDatabase(store: Store, dest: string): Promise<BackupFile> {
  const temp = `${dirname(dest)}/.${dest.slice(dest.lastIndexOf("/") + 1)}.partial-${
    crypto.randomUUID().slice(0, 8)
  }`;
  try {
    try {
      statSync(dest);
      throw new StorageError(`Cannot back up the database to ${dest}: the file exists`);
    } catch (err) {
      if (err instanceof StorageError) throw err;
      if ((err as { code?: string }).code !== "ENOENT") throw err;
    }
    // 0600 from the start: SQLite writes into the existing empty file and keeps its mode.
    writeFileSync(temp, "", { flag: "wx", mode: 0o600 });
    await backup(connectionOf(store).db, temp, { rate: BACKUP_STEP_PAGES });
    const fd = openSync(temp, "r+");
    try {
      // The copy is durable before it takes the final name.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, dest);
    return { path: dest, bytes: statSync(dest).size };
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // never created, or renamed
    }
    if (err instanceof StorageError) throw err;
    throw new StorageError(`Cannot back up the database to ${dest}: ${messageOf(err)}`, {
      cause: err,
    });
  }
}
