/**
 * The root guard: claude refuses `--dangerously-skip-permissions` as uid 0 unless `IS_SANDBOX=1`,
 * so a daemon running as root without it would accept work and fail every agent. Refusing at start
 * says so once, with the fix, instead of one failed agent per request.
 * @module
 */

/** Refusal to start: running as root without `IS_SANDBOX=1` or `--allow-root`. */
export class RootRefusedError extends Error {
  override name = "RootRefusedError";
  readonly code = "root_refused";
}

/** Inputs of {@linkcode checkRoot}. */
export interface RootCheck {
  /** `Deno.uid()` (null where unknown: not root as far as we can tell). */
  uid: number | null;
  /** `IS_SANDBOX` from the environment. */
  isSandbox: string | undefined;
  /** `--allow-root` was given. */
  allowRoot: boolean;
}

/** Throws {@linkcode RootRefusedError} when uid 0 runs without `IS_SANDBOX=1` or `--allow-root`. */
export function checkRoot(check: RootCheck): void {
  if (check.uid !== 0 || check.isSandbox === "1" || check.allowRoot) return;
  throw new RootRefusedError(
    "Cannot start as root: claude refuses --dangerously-skip-permissions for uid 0 unless " +
      "IS_SANDBOX=1, so every agent would fail. Run the service as a non-root user " +
      "(docs/hero_orchestrator_server.service), or, in a disposable sandbox, set IS_SANDBOX=1 " +
      "or pass --allow-root",
  );
}
