/**
 * Shapes shared by the benchmark runner and its scenarios: a figure (value, same-run baseline,
 * ratio, target), a scenario's outcome, and the context a scenario runs in.
 * @module
 */

/** How big a run is: `full` (< 10 min), `quick` (< 2 min) or `smoke` (seconds; for tests). */
export type BenchMode = "full" | "quick" | "smoke";

/** One headline number of a scenario. */
export interface Figure {
  /** Stable id, e.g. `ingest.10.lines_per_s`. */
  id: string;
  /** What was measured, e.g. `10 agents: lines/s end to end`. */
  label: string;
  unit: string;
  /** The figure (a median over repetitions, or the named percentile). null when not measured. */
  value: number | null;
  /** The same-run baseline it is compared with. */
  baseline: { label: string; value: number | null; unit?: string } | null;
  /** `value / baseline.value` (or the overhead, see `ratioKind`). */
  ratio: number | null;
  /** `ratio` = value ÷ baseline (default) or `diff` = value − baseline (in `unit`). */
  ratioKind?: "ratio" | "diff";
  /** The target in words, e.g. `≥ 0.5× (a)`. */
  target: string | null;
  /** Whether the target is met; null when there is no target or no value. */
  met: boolean | null;
  /** Repetitions, samples, summaries: everything needed to recompute the figure. */
  detail?: Record<string, unknown>;
}

/** What a scenario reports. */
export interface ScenarioOutcome {
  figures: Figure[];
  /** Short findings: what dominated, what was scaled down, what was skipped. */
  notes: string[];
  /** Raw data kept in the JSON file. */
  data?: Record<string, unknown>;
}

/** A scenario's entry in the results file. */
export interface ScenarioResult extends ScenarioOutcome {
  name: string;
  title: string;
  status: "ok" | "not_run" | "error";
  /** Why it did not run, or the error. */
  reason?: string;
  duration_ms: number;
}

/** What a scenario gets from the runner. */
export interface BenchContext {
  mode: BenchMode;
  /** A scratch directory for this scenario (removed afterwards). */
  tmp: string;
  /** Fixtures kept between runs (`bench/out/cache` unless `--cache`). */
  cacheDir: string;
  /** Progress output (stderr). */
  log(message: string): void;
  /** `--soak`: long-running scenarios run their soak window (concurrency: 10 minutes). */
  soak?: boolean;
}

/** A benchmark scenario: `bench/<name>.ts` exports one. */
export interface Scenario {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioOutcome>;
}

/** Thrown by a scenario that cannot run here (missing piece); reported as `not run: <reason>`. */
export class NotRunError extends Error {
  override name = "NotRunError";
}

/** Builds a figure with ratio and met computed from a comparison. */
export function figure(options: {
  id: string;
  label: string;
  unit: string;
  value: number | null;
  baseline?: { label: string; value: number | null; unit?: string } | null;
  ratioKind?: "ratio" | "diff";
  target?: string | null;
  /** Decides `met` from the value and ratio; omitted → null. */
  check?: (value: number, ratio: number | null) => boolean;
  detail?: Record<string, unknown>;
}): Figure {
  const base = options.baseline ?? null;
  const kind = options.ratioKind ?? "ratio";
  let ratio: number | null = null;
  if (options.value !== null && Number.isFinite(options.value) && base?.value != null) {
    if (kind === "diff") ratio = options.value - base.value;
    else if (base.value !== 0) ratio = options.value / base.value;
  }
  const valid = options.value !== null && Number.isFinite(options.value);
  return {
    id: options.id,
    label: options.label,
    unit: options.unit,
    value: valid ? options.value : null,
    baseline: base,
    ratio,
    ...(kind === "diff" ? { ratioKind: kind } : {}),
    target: options.target ?? null,
    met: options.check && valid ? options.check(options.value!, ratio) : null,
    ...(options.detail ? { detail: options.detail } : {}),
  };
}
