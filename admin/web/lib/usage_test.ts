import assert from "node:assert/strict";
import type { UsageReport } from "@hero/sdk";
import {
  formatBytes,
  formatFromNow,
  formatPercent,
  formatReset,
  headroomLevel,
  headroomOf,
  sparkline,
} from "./usage.ts";

const NOW = new Date(2026, 4, 1, 12, 0, 0).getTime(); // Fri 2026-05-01 12:00 local

function report(over: {
  rate?: UsageReport["rate_limit"];
  poll?: UsageReport["oauth_poll"]["last_ok"];
}): UsageReport {
  return {
    now: NOW,
    period: { name: "today", since: NOW - 3_600_000, until: NOW },
    rate_limit: over.rate ?? null,
    totals: {
      turns: 0,
      input_tokens: 0,
      output_tokens: 0,
      cache_read_tokens: 0,
      cache_creation_tokens: 0,
      cost_usd: 0,
    },
    agents: [],
    series: { bucket_ms: 3_600_000, buckets: [] },
    cost_today_usd: 0,
    oauth_poll: {
      status: over.poll ? "ok" : "disabled",
      detail: null,
      url: "http://x/api/oauth/usage",
      interval_ms: 0,
      next_at: null,
      last: null,
      last_ok: over.poll ?? null,
    },
    proxy: {
      scope: "all",
      upstream: "http://x",
      credential: { kind: null, source: null, expires_at: null, detail: null },
      stats: null,
    },
    quota: {
      admission: null,
      paused: [],
      daily_budget_usd: null,
      daily_remaining_usd: null,
      cwd_budgets: [],
    },
    agent: null,
  };
}

function rate(ts: number, windows: Array<[string, number | null, number | null]>) {
  return {
    ts,
    agent_id: "a",
    http_status: 200,
    request_id: null,
    unified_status: "allowed",
    unified_resets_at: null,
    representative_claim: null,
    fallback: null,
    fallback_percentage: null,
    retry_after: null,
    windows: windows.map(([name, utilization, resets_at]) => ({
      name,
      utilization,
      resets_at,
      status: "allowed",
      limit: null,
      remaining: null,
    })),
    headers: {},
  };
}

Deno.test("headroomOf() reads the proxy's 5h/7d windows as 1 − utilization", () => {
  const r = report({ rate: rate(NOW - 1000, [["5h", 0.42, NOW + 7_200_000], ["7d", 0.1, null]]) });
  const five = headroomOf(r, "5h", NOW);
  assert.equal(five.source, "proxy");
  assert.equal(formatPercent(five.left!), "58%");
  assert.equal(five.resetsAt, NOW + 7_200_000);
  assert.equal(headroomLevel(five), "ok");
  assert.equal(formatPercent(headroomOf(r, "7d", NOW).left!), "90%");
});

Deno.test("headroomOf() falls back to the OAuth poll, and takes the newer reading", () => {
  const poll = {
    ts: NOW - 60_000,
    windows: [{ name: "five_hour", utilization: 0.91, resets_at: NOW + 1000, status: null }],
  };
  const onlyPoll = headroomOf(report({ poll }), "5h", NOW);
  assert.equal(onlyPoll.source, "oauth");
  assert.equal(formatPercent(onlyPoll.left!), "9%");
  assert.equal(headroomLevel(onlyPoll), "low");
  // A newer proxy reading wins; an older one does not.
  const newer = report({ poll, rate: rate(NOW - 1000, [["5h", 0.7, null]]) });
  assert.equal(headroomOf(newer, "5h", NOW).source, "proxy");
  const older = report({ poll, rate: rate(NOW - 120_000, [["5h", 0.7, null]]) });
  assert.equal(headroomOf(older, "5h", NOW).source, "oauth");
  // A reading without a utilisation gives way to one with.
  const empty = report({ poll, rate: rate(NOW - 1000, [["5h", null, null]]) });
  assert.equal(headroomOf(empty, "5h", NOW).source, "oauth");
  // Nothing known.
  const none = headroomOf(report({}), "7d", NOW);
  assert.deepEqual([none.left, none.source, headroomLevel(none)], [null, null, "none"]);
});

Deno.test("headroomOf() marks a reading whose window has reset since as stale", () => {
  const r = report({ rate: rate(NOW - 3_600_000, [["5h", 0.99, NOW - 1000]]) });
  const h = headroomOf(r, "5h", NOW);
  assert.ok(h.stale);
  assert.equal(headroomLevel(h), "none");
});

Deno.test("formatReset(), formatFromNow(), formatBytes()", () => {
  assert.equal(formatReset(new Date(2026, 4, 1, 14, 5).getTime(), NOW), "14:05");
  assert.equal(formatReset(new Date(2026, 4, 4, 9, 0).getTime(), NOW), "Mon 09:00");
  assert.equal(formatReset(new Date(2026, 5, 1, 9, 0).getTime(), NOW), "2026-06-01 09:00");
  assert.equal(formatFromNow(NOW + 7_500_000, NOW), "in 2h 05m");
  assert.equal(formatFromNow(NOW - 300_000, NOW), "5m ago");
  assert.equal(formatFromNow(NOW + 3 * 86_400_000 + 4 * 3_600_000, NOW), "in 3d 4h");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(12_345), "12.3 KB");
  assert.equal(formatBytes(4_560_000), "4.56 MB");
});

Deno.test("sparkline() scales to the peak and keeps the stroke inside the box", () => {
  const s = sparkline([0, 1, 0, 2], 30, 20, 2);
  assert.equal(s.line, "0,18 10,10 20,18 30,2");
  assert.equal(s.area, "M0,20 L0,18 L10,10 L20,18 L30,2 L30,20 Z");
  assert.deepEqual(s.last, { x: 30, y: 2 });
  assert.equal(s.max, 2);
  assert.equal(sparkline([0, 0, 0], 30, 20).line, "0,18 15,18 30,18");
  assert.equal(sparkline([], 30, 20).line, "30,18");
});
