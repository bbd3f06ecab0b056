/**
 * Database backups: `system.backup` and the optional periodic backup, both writing
 * `<state dir>/backups/db-<UTC timestamp>.sqlite` (0600) through `core/store`'s online backup. The periodic one keeps the newest `HERO_ORCHESTRATOR_BACKUP_KEEP` files.
 * @module
 */
import { type Env, intSetting } from "@hero/core/config";
import { backupDatabase, backupDirOf, type BackupFile, type Store } from "@hero/core/store";
import type { Log } from "@hero/service/log";

/** `HERO_ORCHESTRATOR_BACKUP_INTERVAL_MS` (0 = off, the default) and `…_BACKUP_KEEP` (3). */
export interface BackupSettings {
  intervalMs: number;
  keep: number;
}

const NAME = /^db-\d{8}T\d{9}Z(-\d+)?\.sqlite$/;

/** Reads the backup settings; an interval below one minute (except 0) is refused. */
export function resolveBackupSettings(env: Env): BackupSettings {
  const intervalMs = intSetting(env, "HERO_ORCHESTRATOR_BACKUP_INTERVAL_MS", 0, 0);
  if (intervalMs !== 0 && intervalMs < 1_000) {
    throw new RangeError(
      `Cannot read HERO_ORCHESTRATOR_BACKUP_INTERVAL_MS: expected 0 (off) or >= 1000, got ${intervalMs}`,
    );
  }
  return { intervalMs, keep: intSetting(env, "HERO_ORCHESTRATOR_BACKUP_KEEP", 3, 1) };
}

/** `db-20261203T132200123Z.sqlite`: sorts by time. */
export function backupName(now: Date): string {
  return `db-${now.toISOString().replace(/[-:.]/g, "")}.sqlite`;
}

/** The backup files in `dir`, oldest first. */
export function listBackups(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && NAME.test(e.name))
      .map((e) => e.name)
      .sort()
      .map((name) => `${dir}/${name}`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/**
 * Backs `store` up to `path`, or to a new timestamped file in the backups directory beside the
 * database (created 0700).
 */
export async function backupNow(
  store: Store,
  path?: string,
): Promise<BackupFile & { created_at: number }> {
  const now = new Date();
  let dest = path;
  if (dest === undefined) {
    const dir = backupDirOf(store.path);
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    dest = `${dir}/${backupName(now)}`;
    // Two backups in the same millisecond get a suffix rather than an error.
    for (let i = 1; exists(dest); i++) {
      dest = `${dir}/${backupName(now).replace(".sqlite", `-${i}.sqlite`)}`;
    }
  }
  return { ...(await backupDatabase(store, dest)), created_at: now.getTime() };
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Deletes all but the newest `keep` backups in `dir`; returns the deleted paths. */
export function pruneBackups(dir: string, keep: number): string[] {
  const all = listBackups(dir);
  const old = all.slice(0, Math.max(0, all.length - keep));
  for (const path of old) Deno.removeSync(path);
  return old;
}

/** A running periodic backup. */
export interface PeriodicBackup {
  stop(): void;
}

/** Every `settings.intervalMs`: a backup, then rotation to the newest `settings.keep`. */
export function startPeriodicBackup(
  store: Store,
  settings: BackupSettings,
  log: Log,
): PeriodicBackup {
  if (settings.intervalMs === 0) return { stop() {} };
  const dir = backupDirOf(store.path);
  let running = false;
  const timer = setInterval(async function periodicBackup() {
    // A backup slower than the interval is not stacked on itself.
    if (running) return;
    running = true;
    try {
      const file = await backupNow(store);
      const pruned = pruneBackups(dir, settings.keep);
      log("info", "database backed up", { path: file.path, bytes: file.bytes, pruned });
    } catch (err) {
      // A failed backup must not stop the daemon; the next interval tries again.
      log("error", "database backup failed", {
        error: err instanceof Error ? err.message : String(err),
      });
    } finally {
      running = false;
    }
  }, settings.intervalMs);
  log("info", "periodic backup on", { dir, interval_ms: settings.intervalMs, keep: settings.keep });
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
