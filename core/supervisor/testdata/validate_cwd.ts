/**
 * Runs `validateCwd()` under the permissions the test passes (the server's real situation: read
 * access only inside its roots) and prints the outcome as JSON.
 * Usage: validate_cwd.ts <cwd> <allowed roots, comma-separated, or "-">
 */
import { validateCwd } from "../cwd.ts";

const [cwd, roots] = Deno.args;
try {
  const real = validateCwd(cwd, {
    protectedDirs: [],
    allowedRoots: roots && roots !== "-" ? roots.split(",") : null,
  });
  console.log(JSON.stringify({ ok: real }));
} catch (err) {
  const e = err as Error & { code?: string };
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
