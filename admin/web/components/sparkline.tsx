/** A small inline-SVG sparkline (presentation attributes and CSS classes only: no style). */
import { sparkline } from "../lib/usage.ts";

/** `values` oldest first; `label` is the accessible name (and the tooltip). */
export function Sparkline(
  { values, label, width = 64, height = 20, className = "" }: {
    values: readonly number[];
    label: string;
    width?: number;
    height?: number;
    className?: string;
  },
) {
  // Room on the right for the newest point's dot.
  const s = sparkline(values, width - 2.5, height, 2.5);
  return (
    <svg
      class={`spark ${className}`.trim()}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={label}
      data-values={values.map((v) => (Number.isFinite(v) ? v : 0).toFixed(6)).join(" ")}
      focusable="false"
    >
      <title>{label}</title>
      <path class="spark-area" d={s.area} />
      <polyline class="spark-line" points={s.line} />
      <circle class="spark-dot" cx={s.last.x} cy={s.last.y} r="2" />
    </svg>
  );
}

/** A horizontal bar of `fraction` (0..1) in an SVG, coloured by `level`. */
export function Bar(
  { fraction, level, width = 32, height = 6 }: {
    fraction: number | null;
    level: string;
    width?: number;
    height?: number;
  },
) {
  const w = fraction === null ? 0 : Math.round(Math.min(1, Math.max(0, fraction)) * width * 10) /
    10;
  return (
    <svg
      class={`bar bar-${level}`}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      aria-hidden="true"
      focusable="false"
    >
      <rect class="bar-track" x="0" y="0" width={width} height={height} rx="2" />
      {w > 0 ? <rect class="bar-fill" x="0" y="0" width={w} height={height} rx="2" /> : null}
    </svg>
  );
}
