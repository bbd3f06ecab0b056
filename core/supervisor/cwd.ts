import { ValidationError } from "../models/mod.ts";

export interface CwdPolicy {
  /** The daemon's own state, socket and database directories: never an agent's cwd. */
  protectedDirs: string[];
  /** When set, the canonical cwd must be one of these or inside one. */
  allowedRoots: string[] | null;
}

function canonical(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

function envHome(): string | null {
  try {
    return Deno.env.get("HOME") ?? null;
  } catch {
    return null;
  }
}

/** The roots the server was granted read access to, as a person would configure them. */
function grantedRoots(policy: CwdPolicy): string {
  if (policy.allowedRoots) {
    return `${policy.allowedRoots.join(", ")} (HERO_ORCHESTRATOR_ALLOWED_ROOTS)`;
  }
  const home = envHome();
  return home ? `${home} ($HOME, as HERO_ORCHESTRATOR_ALLOWED_ROOTS is unset)` : "$HOME";
}

/**
 * Why a path could not be resolved. The server reads only inside its agent roots (its
 * `--allow-read`), so a folder elsewhere fails with a permission error, not "not found": say so,
 * and how to widen the roots.
 */
function unreadable(path: string, err: unknown, policy: CwdPolicy): string {
  if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
    return `"${path}" does not exist`;
  }
  if (err instanceof Deno.errors.NotCapable) {
    const roots = policy.allowedRoots ?? [envHome()].filter((r): r is string => !!r);
    if (roots.some((root) => inside(path, root))) {
      return `"${path}" is in a directory the server may never read (secrets such as ~/.ssh ` +
        `and ~/.aws are excluded from its roots); choose another folder`;
    }
    const widened = [...roots, path].join(",");
    return `"${path}" is outside the roots the server may read: ${grantedRoots(policy)}; to ` +
      `use it, set HERO_ORCHESTRATOR_ALLOWED_ROOTS=${widened} (comma-separated absolute paths) ` +
      `and restart the server`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return `"${path}" cannot be read by the server's user (permission denied by the file ` +
      `system); choose a folder that user can read`;
  }
  return `"${path}" cannot be resolved (${err instanceof Error ? err.message : String(err)})`;
}

/**
 * Checks a requested working directory and returns its canonical form (symlinks resolved), which
 * is what the agent is spawned in, so a symlink swapped after the check cannot redirect it.
 */
export function validateCwd(cwd: unknown, policy: CwdPolicy): string {
  const fail = (reason: string): never => {
    throw new ValidationError("invalid_cwd", `Cannot use working directory: ${reason}`, "cwd");
  };
  if (typeof cwd !== "string" || cwd.length === 0) fail("it is empty");
  const path = cwd as string;
  if (path.includes("\0")) fail("it contains a NUL character");
  if (!path.startsWith("/")) fail(`"${path}" is not an absolute path`);
  if (path.length > 4096) fail("it is longer than 4096 characters");
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch (err) {
    return fail(unreadable(path, err, policy));
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(real);
  } catch (err) {
    return fail(`"${path}" cannot be read (${err instanceof Error ? err.message : err})`);
  }
  if (!info.isDirectory) fail(`"${path}" is not a directory`);
  for (const dir of policy.protectedDirs) {
    const protectedReal = canonical(dir);
    if (inside(real, protectedReal)) {
      fail(`"${path}" is inside the orchestrator's own directory ${dir}`);
    }
  }
  if (policy.allowedRoots && !policy.allowedRoots.some((root) => inside(real, canonical(root)))) {
    fail(`"${path}" is outside the allowed roots (${policy.allowedRoots.join(", ")})`);
  }
  return real;
}

/**
 * Checks a stored cwd again right before a spawn (first start, resume, follow-up, retry): it must
 * still pass {@linkcode validateCwd} AND still resolve to itself. A stored cwd is canonical, so a
 * different resolution means a component was replaced (a directory swapped for a symlink) since
 * the agent was created: refused with `invalid_cwd`, never followed. Returns the verified path.
 */
export function revalidateCwd(stored: string, policy: CwdPolicy): string {
  const real = validateCwd(stored, policy);
  if (real !== stored) {
    throw new ValidationError(
      "invalid_cwd",
      `Cannot use working directory: "${stored}" now resolves to "${real}" (a path component was replaced since the agent was created)`,
      "cwd",
    );
  }
  return real;
}
