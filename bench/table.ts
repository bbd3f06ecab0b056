/**
 * Plain-text table of benchmark results: figure, value, baseline, ratio, target, met/not met.
 * @module
 */
import type { Figure, ScenarioResult } from "./types.ts";

/** A number for humans: thousands separators, 3 significant digits below 100. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString("en-US");
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return "0";
  return value.toPrecision(2);
}

function withUnit(value: number | null | undefined, unit: string): string {
  const text = formatNumber(value);
  return text === "–" || unit === "" ? text : `${text} ${unit}`;
}

function ratioText(f: Figure): string {
  if (f.ratio === null) return "–";
  if (f.ratioKind === "diff") return `${f.ratio >= 0 ? "+" : ""}${withUnit(f.ratio, f.unit)}`;
  return `${formatNumber(f.ratio)}×`;
}

function metText(f: Figure): string {
  if (f.met === null) return f.target ? "n/a" : "";
  return f.met ? "met" : "NOT MET";
}

/** One row per figure; a scenario that did not run gets one row with its reason. */
export function tableRows(results: readonly ScenarioResult[]): string[][] {
  const rows: string[][] = [];
  for (const r of results) {
    if (r.status !== "ok") {
      const what = r.status === "not_run" ? "not run" : "error";
      rows.push([r.name, `${what}: ${r.reason ?? ""}`, "", "", "", "", ""]);
      continue;
    }
    for (const f of r.figures) {
      const base = f.baseline
        ? `${withUnit(f.baseline.value, f.baseline.unit ?? f.unit)} (${f.baseline.label})`
        : "–";
      rows.push([
        r.name,
        f.label,
        withUnit(f.value, f.unit),
        base,
        ratioText(f),
        f.target ?? "",
        metText(f),
      ]);
    }
  }
  return rows;
}

const HEADER = ["scenario", "figure", "value", "baseline (same run)", "ratio", "target", "met"];

/** Renders rows as a Markdown-compatible pipe table. */
export function renderTable(rows: readonly string[][], header: readonly string[] = HEADER): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i]!)).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
