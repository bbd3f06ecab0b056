/**
 * Figures shown the same way on every surface (the admin, the widget, the CLI).
 * @module
 */

/**
 * A cost in US dollars: `$0`, `<$0.0001`, `$0.0042`, `$1.25`, `$120`. Small costs keep four
 * decimals, so a cheap agent never reads as `$0.00` on one surface and `$0.0044` on another.
 *
 * @example
 * ```ts
 * formatCost(0.0044); // "$0.0044"
 * formatCost(1.254); // "$1.25"
 * ```
 */
export function formatCost(usd: number): string {
  if (!Number.isFinite(usd) || usd <= 0) return "$0";
  if (usd < 0.0001) return "<$0.0001";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd)}`;
}
