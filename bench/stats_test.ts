import assert from "node:assert/strict";
import { mean, median, percentile, slope, summarize } from "./stats.ts";
import { renderTable, tableRows } from "./table.ts";
import { figure } from "./types.ts";

Deno.test("median() takes the middle value, or the mean of the two middle values", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
  // Non-finite values are ignored, not sorted in.
  assert.equal(median([NaN, 5, Infinity, 1]), 3);
});

Deno.test("percentile() is nearest-rank: p99 of 100 values is the 99th, of fewer the maximum", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted input
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 50), 50);
  assert.equal(percentile(hundred, 100), 100);
  assert.equal(percentile(hundred, 1), 1);
  assert.equal(percentile([5, 1, 9], 99), 9);
  const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(percentile(thousand, 99), 990);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.ok(Number.isNaN(percentile([], 99)));
  assert.throws(() => percentile([1], 0), RangeError);
  assert.throws(() => percentile([1], 101), RangeError);
});

Deno.test("summarize() reports n, min, p50, p90, p99, max and mean", () => {
  const s = summarize([10, 20, 30, 40]);
  assert.deepEqual(s, { n: 4, min: 10, p50: 25, p90: 40, p99: 40, max: 40, mean: 25 });
  assert.equal(mean([1, 2, 3]), 2);
});

Deno.test("slope() is the least-squares slope; NaN without two distinct x", () => {
  assert.equal(slope([0, 1, 2], [5, 7, 9]), 2);
  assert.ok(Math.abs(slope([0, 1, 2, 3], [1, 1, 2, 2]) - 0.4) < 1e-12);
  assert.ok(Number.isNaN(slope([1, 1], [1, 2])));
  assert.throws(() => slope([1], [1, 2]), RangeError);
});

Deno.test("figure() computes ratio or difference and met; the table prints one row per figure", () => {
  const ratio = figure({
    id: "a",
    label: "lines/s",
    unit: "lines/s",
    value: 30_000,
    baseline: { label: "raw", value: 100_000 },
    target: "≥ 0.5×",
    check: (_v, r) => r !== null && r >= 0.5,
  });
  assert.equal(ratio.ratio, 0.3);
  assert.equal(ratio.met, false);
  const diff = figure({
    id: "b",
    label: "first line",
    unit: "ms",
    value: 27,
    baseline: { label: "direct", value: 25 },
    ratioKind: "diff",
    target: "≤ 5 ms",
    check: (_v, d) => d !== null && d <= 5,
  });
  assert.equal(diff.ratio, 2);
  assert.equal(diff.met, true);
  const table = renderTable(tableRows([
    { name: "x", title: "X", status: "ok", duration_ms: 1, figures: [ratio, diff], notes: [] },
    {
      name: "y",
      title: "Y",
      status: "not_run",
      reason: "no proxy",
      duration_ms: 0,
      figures: [],
      notes: [],
    },
  ]));
  const lines = table.split("\n");
  assert.equal(lines.length, 5);
  assert.match(lines[2]!, /30,000 lines\/s .*0\.30× .*NOT MET/);
  assert.match(lines[3]!, /\+2\.00 ms .* met/);
  assert.match(lines[4]!, /not run: no proxy/);
});
