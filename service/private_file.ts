/** Writing a file only its owner may read, replacing the old one atomically. */

/**
 * Writes `text` to `path` with mode 0600 through a temporary file in the same directory and a
 * rename, so a reader sees the old content or the new one, never half of it (the directory must
 * exist).
 */
export function writePrivateFileSync(path: string, text: string): void {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.writeTextFileSync(tmp, text, { mode: 0o600, createNew: true });
    // The mode given at creation is filtered by the umask; this one is not.
    Deno.chmodSync(tmp, 0o600);
    Deno.renameSync(tmp, path);
  } catch (err) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created
    }
    throw err;
  }
}
