/**
 * A fault-injecting layer below SQLite for tests: `fault_fs.c`, compiled with the system `gcc` and
 * loaded with `LD_PRELOAD` into one process (the daemon). `node:sqlite` has no VFS hook, so the
 * faults sit at libc's write-side calls for the database's files (see the C source for the
 * protocol). Two uses:
 * - fail the N-th write of the database with EIO or ENOSPC ({@linkcode armWriteFault});
 * - emulate power loss: after SIGKILL, undo every write no fsync covered
 *   ({@linkcode applyPowerLoss}).
 *
 * @example
 * ```ts
 * const shim = await buildFaultShim(dir);
 * const fault = faultSetup(shim, { db: `${varDir}/hero_orchestrator/db.sqlite`, ctl: dir });
 * // spawnDaemon({ ...env, ...fault.env }, { prelude: fault.prelude })
 * await armWriteFault(dir, 1, { n: 37, errno: "EIO", count: 0 });
 * ```
 * @module
 */

const SOURCE = new URL("./fault_fs.c", import.meta.url);

/** Compiles the shim into `dir` with `/usr/bin/gcc` (or `gcc` on PATH); returns the `.so` path. */
export async function buildFaultShim(dir: string): Promise<string> {
  const out = `${dir}/fault_fs.so`;
  const gcc = await Deno.stat("/usr/bin/gcc").then(() => "/usr/bin/gcc", () => "gcc");
  const result = await new Deno.Command(gcc, {
    args: ["-shared", "-fPIC", "-O2", "-Wall", "-o", out, SOURCE.pathname, "-ldl", "-lpthread"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(
      `Cannot build the fault shim: gcc failed: ${new TextDecoder().decode(result.stderr)}`,
    );
  }
  return out;
}

/** What the shim watches in a process. */
export interface FaultOptions {
  /** Absolute, canonical path of the database (its -wal and -journal are watched too). */
  db: string;
  /** Control directory for write faults (`armWriteFault`). */
  ctl?: string;
  /** Undo journal for power-loss emulation (`applyPowerLoss`). */
  undo?: string;
}

/**
 * The environment and the shell prelude that load `shim` into the process a shell `exec`s (the
 * shell itself runs without it); the shim removes both from the process's environment at start.
 */
export function faultSetup(
  shim: string,
  options: FaultOptions,
): { env: Record<string, string>; prelude: string } {
  const env: Record<string, string> = { HERO_FAULT_DB: options.db };
  if (options.ctl) env.HERO_FAULT_CTL = options.ctl;
  if (options.undo) env.HERO_FAULT_UNDO = options.undo;
  return { env, prelude: `export LD_PRELOAD='${shim.replaceAll("'", "'\\''")}'` };
}

/** One round of write faults. */
export interface WriteFault {
  /** The first failing matching write, counted from the arming (1-based). */
  n: number;
  errno: "EIO" | "ENOSPC";
  /** How many writes fail from the n-th on; 0 = until {@linkcode clearWriteFault}. */
  count: number;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
}

/** Arms round `round` (1, 2, … in order; the previous round must be cleared). */
export async function armWriteFault(ctl: string, round: number, fault: WriteFault): Promise<void> {
  await writeAtomic(`${ctl}/arm.${round}`, `${fault.n} ${fault.errno} ${fault.count}\n`);
}

/** Ends round `round`: no write fails from now on until the next round is armed. */
export async function clearWriteFault(ctl: string, round: number): Promise<void> {
  await writeAtomic(`${ctl}/clear.${round}`, "\n");
}

/** Where round `round`'s first fault hit (`"<n> <call> <db|wal|journal>"`), or null before. */
export async function writeFaultHit(ctl: string, round: number): Promise<string | null> {
  try {
    return (await Deno.readTextFile(`${ctl}/hit.${round}`)).trim();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Whether the shim loaded in a process with this control directory (its pid, else null). */
export async function shimLoadedPid(ctl: string): Promise<number | null> {
  try {
    return Number((await Deno.readTextFile(`${ctl}/loaded`)).trim());
  } catch {
    return null;
  }
}

interface UndoRecord {
  file: number;
  offset: number;
  oldSize: number;
  /** null for a sync mark. */
  bytes: Uint8Array | null;
}

/** The complete records of an undo journal (a record cut short by the kill is dropped). */
function parseUndo(data: Uint8Array): UndoRecord[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const records: UndoRecord[] = [];
  for (let at = 0; at + 32 <= data.length;) {
    if (new TextDecoder().decode(data.subarray(at, at + 4)) !== "UNDO") {
      throw new Error(`Cannot read the undo journal: no record at byte ${at}`);
    }
    const file = view.getUint32(at + 4, true);
    const offset = Number(view.getBigInt64(at + 8, true));
    const oldSize = Number(view.getBigInt64(at + 16, true));
    const length = Number(view.getBigInt64(at + 24, true));
    if (length < 0) {
      records.push({ file, offset, oldSize, bytes: null });
      at += 32;
      continue;
    }
    if (at + 32 + length > data.length) break;
    records.push({ file, offset, oldSize, bytes: data.subarray(at + 32, at + 32 + length) });
    at += 32 + length;
  }
  return records;
}

/** What {@linkcode applyPowerLoss} undid. */
export interface PowerLossReport {
  /** Unsynced writes and truncations undone, per file name. */
  undone: Record<string, number>;
  /** Unsynced writes kept (the device wrote them anyway), per file name. */
  kept: Record<string, number>;
  bytes: number;
}

const FILES = ["", "", "-wal", "-journal"];
const NAMES = ["", "db", "wal", "journal"];

/**
 * Emulates power loss on the files of `db` after the process writing them was killed: per file,
 * the writes after its last sync are undone newest first (file contents and size), so the file
 * holds what was on disk at that sync. `keep(file, unsynced)` may return how many of the oldest
 * unsynced writes survive (a device may persist any prefix of what it was given); default 0.
 * Does not cover directory entries (a file created or removed since its directory was synced) or
 * writes reordered within one sync interval. The -shm file is left as it is (SQLite rebuilds
 * the WAL index when the first connection opens the database).
 */
export async function applyPowerLoss(
  db: string,
  undoJournal: string,
  keep: (file: string, unsynced: number) => number = () => 0,
): Promise<PowerLossReport> {
  const records = parseUndo(await Deno.readFile(undoJournal));
  const report: PowerLossReport = { undone: {}, kept: {}, bytes: 0 };
  for (let file = 1; file <= 3; file++) {
    const mine = records.filter((r) => r.file === file);
    const lastSync = mine.findLastIndex((r) => r.bytes === null);
    const unsynced = mine.slice(lastSync + 1);
    if (unsynced.length === 0) continue;
    const name = NAMES[file]!;
    const kept = Math.max(0, Math.min(unsynced.length, keep(name, unsynced.length)));
    const undo = unsynced.slice(kept).reverse();
    let handle: Deno.FsFile;
    try {
      handle = await Deno.open(`${db}${FILES[file]}`, { read: true, write: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    try {
      for (const r of undo) {
        if (r.bytes!.length > 0) {
          await handle.seek(r.offset, Deno.SeekMode.Start);
          for (let done = 0; done < r.bytes!.length;) {
            done += await handle.write(r.bytes!.subarray(done));
          }
        }
        await handle.truncate(r.oldSize);
        report.bytes += r.bytes!.length;
      }
    } finally {
      handle.close();
    }
    report.undone[name] = undo.length;
    report.kept[name] = kept;
  }
  return report;
}
