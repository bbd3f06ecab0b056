/**
 * Small statistics for the benchmark: order statistics (median, nearest-rank percentiles), a
 * least-squares slope, and a summary of a sample.
 * @module
 */

/** Sorted copy of the finite values of `values`. */
function sortedFinite(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/**
 * The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest value such that at
 * least p % of the sample is ≤ it. With fewer than 100 values, p99 is the maximum. NaN when empty.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * percentile([1, 2, 3, 4], 99); // 4
 * ```
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) {
    throw new RangeError(`Cannot compute percentile: p must be in (0, 100], got ${p}`);
  }
  const sorted = sortedFinite(values);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/**
 * The median: the middle value, or the mean of the two middle values for an even count. NaN when
 * empty.
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * median([4, 1, 3, 2]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = sortedFinite(values);
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Arithmetic mean; NaN when empty. */
export function mean(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return NaN;
  let sum = 0;
  for (const v of finite) sum += v;
  return sum / finite.length;
}

/**
 * Least-squares slope of `ys` over `xs` (units of y per unit of x). NaN with fewer than two
 * distinct x values.
 *
 * @example
 * ```ts
 * slope([0, 1, 2], [5, 7, 9]); // 2
 * ```
 */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) {
    throw new RangeError(
      `Cannot compute slope: ${xs.length} x values but ${ys.length} y values`,
    );
  }
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Order statistics of a sample. */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** n, min, p50 (median), p90, p99 (nearest rank), max and mean of `values`. */
export function summarize(values: readonly number[]): Summary {
  const sorted = sortedFinite(values);
  return {
    n: sorted.length,
    min: sorted.length ? sorted[0]! : NaN,
    p50: median(sorted),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    mean: mean(sorted),
  };
}
