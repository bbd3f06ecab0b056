/**
 * Test sizes for the reliability targets (docs/reliability.md). A test states its CI-sized figure
 * and the target's full figure once; `deno task test` runs the first, `deno task soak` (which sets
 * `HERO_SOAK`) the second, so both runs execute the same assertions.
 *
 * @example
 * ```ts
 * const ROUNDS = soakFigure(10, 1_000); // 10 in CI, 1,000 in the soak
 * ```
 * @module
 */

/** How large a reliability test runs: CI-sized, a tenth of the target, or the target's figure. */
export type SoakMode = "ci" | "short" | "full";

/** The environment variable `deno task soak` sets for the test files it runs. */
export const SOAK_VAR = "HERO_SOAK";

/** The mode of this test process: `HERO_SOAK=full|short`, else `ci`. */
export function soakMode(): SoakMode {
  const raw = Deno.env.get(SOAK_VAR);
  if (raw === "full" || raw === "short") return raw;
  if (raw === undefined || raw === "" || raw === "ci") return "ci";
  throw new RangeError(`Cannot read ${SOAK_VAR}: "${raw}" is not ci, short or full`);
}

/**
 * `ci` in `deno task test`; `full` (the target's figure) in the full soak; in the short soak a
 * tenth of `full`, never less than `ci`.
 */
export function soakFigure(ci: number, full: number): number {
  switch (soakMode()) {
    case "ci":
      return ci;
    case "full":
      return full;
    case "short":
      return Math.max(ci, Math.round(full / 10));
  }
}
