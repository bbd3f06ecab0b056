/**
 * The SQLite engine gate: versions 3.7.0 through 3.51.2 carry the WAL-reset bug, which can corrupt a
 * WAL database when a checkpoint races a writer (sqlite.org wal.html). Fixed in 3.51.3 and backported
 * to 3.44.6 and 3.50.7.
 */

type Triple = readonly [number, number, number];

const BUGGY_FROM: Triple = [3, 7, 0];
const BUGGY_THROUGH: Triple = [3, 51, 2];
/** Patched releases on older branches: [major, minor, first fixed patch]. */
const BACKPORTS: readonly Triple[] = [[3, 44, 6], [3, 50, 7]];

function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function parse(version: string): Triple {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:\.\d+)*$/.exec(version.trim());
  if (!match) throw new TypeError(`Cannot check SQLite version "${version}": not a version number`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/**
 * Throws when `version` (as `sqlite_version()` reports it) has the WAL-reset bug.
 *
 * @example
 * ```ts
 * checkSqliteVersion("3.53.2"); // fine
 * checkSqliteVersion("3.49.2"); // throws
 * ```
 */
export function checkSqliteVersion(version: string): void {
  const v = parse(version);
  if (compare(v, BUGGY_FROM) < 0 || compare(v, BUGGY_THROUGH) > 0) return;
  if (BACKPORTS.some((b) => v[0] === b[0] && v[1] === b[1] && v[2] >= b[2])) return;
  throw new Error(
    `Cannot use SQLite ${version}: versions 3.7.0 through 3.51.2 have the WAL-reset bug that can ` +
      `corrupt the database; use 3.51.3 or later (or 3.44.6+, 3.50.7+ on those branches)`,
  );
}
