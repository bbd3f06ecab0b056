/**
 * The header's usage meter: 5-hour and weekly headroom with their reset times, a burn-rate
 * sparkline (cost per hour over the last 24 hours) and today's cost. It opens into a panel with
 * the details: every rate-limit window, where the readings come from (the quota proxy's newest
 * snapshot, the OAuth usage poll) and the proxy's scope, credential kind and counters.
 * @module
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { UsageReport } from "@hero/sdk";
import { formatClock, formatCost, formatTokens } from "../lib/format.ts";
import { oneLine } from "../lib/sanitize.ts";
import {
  formatFromNow,
  formatPercent,
  formatReset,
  type Headroom,
  headroomLevel,
  headroomOf,
} from "../lib/usage.ts";
import { now } from "../state/clock.ts";
import { usageError, usageReport } from "../state/usage.ts";
import { Bar, Sparkline } from "./sparkline.tsx";

const KEYS = ["5h", "7d"] as const;

/** Why a window has no reading: only a claude subscription login has 5-hour and weekly windows. */
export function noReadingWhy(report: UsageReport): string {
  const kind = report.proxy.credential.kind;
  if (kind === null) return "no credential yet: the windows come with a claude subscription login";
  if (kind !== "oauth") {
    return "the server uses an API key: API keys have no 5-hour or weekly window " +
      "(those belong to a claude subscription login)";
  }
  return "no rate-limit reading yet: it comes with the first reply through the proxy or the " +
    "OAuth usage poll";
}

function headroomText(h: Headroom, report: UsageReport): string {
  if (h.stale) return "reset";
  if (h.left === null && h.source === null && report.proxy.credential.kind !== "oauth") {
    return "n/a";
  }
  return h.left === null ? "—" : formatPercent(h.left);
}

function headroomTitle(h: Headroom, at: number, report: UsageReport): string {
  if (h.source === null) return `${h.label} window: ${noReadingWhy(report)}`;
  const parts = [`${h.label} window`];
  if (h.stale) parts.push(`reset at ${formatReset(h.resetsAt!, at)}; no reading since`);
  else if (h.left !== null) {
    parts.push(`${formatPercent(h.left)} left (${formatPercent(h.used!)} used)`);
  }
  if (h.resetsAt !== null && !h.stale) {
    parts.push(`resets ${formatReset(h.resetsAt, at)} (${formatFromNow(h.resetsAt, at)})`);
  }
  if (h.status) parts.push(h.status);
  parts.push(
    `${h.source === "proxy" ? "from the quota proxy" : "from the OAuth usage poll"} at ${
      formatClock(h.readAt!)
    }`,
  );
  return parts.join(" · ");
}

/** `14:00` (local). */
function formatHour(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

function costValues(report: UsageReport): number[] {
  return report.series.buckets.map((b) => b.cost_usd);
}

function burnLabel(report: UsageReport): string {
  const buckets = report.series.buckets;
  if (buckets.length === 0) return "Cost per hour: no data";
  let peak = buckets[0]!;
  for (const b of buckets) if (b.cost_usd > peak.cost_usd) peak = b;
  const total = buckets.reduce((sum, b) => sum + b.cost_usd, 0);
  const last = buckets[buckets.length - 1]!;
  const hours = Math.round(buckets.length * report.series.bucket_ms / 3_600_000);
  return `Cost per hour, last ${hours} h: ${formatCost(total)} in all, this hour ${
    formatCost(last.cost_usd)
  }${
    peak.cost_usd > 0
      ? `, peak ${formatCost(peak.cost_usd)} in the hour from ${formatHour(peak.start)}`
      : ""
  }`;
}

/** One window in the header: label, bar, percent left, reset time. */
function WindowChip({ h, at, report }: { h: Headroom; at: number; report: UsageReport }) {
  const level = headroomLevel(h);
  return (
    <span
      class={`usage-win usage-${level}`}
      data-window={h.key}
      data-left={h.left === null || h.stale ? "" : h.left.toFixed(4)}
      title={headroomTitle(h, at, report)}
    >
      <span class="usage-win-label">{h.key}</span>
      <Bar fraction={h.stale ? null : h.left} level={level} />
      <strong class="tabular usage-left">{headroomText(h, report)}</strong>
      {h.resetsAt !== null && !h.stale
        ? (
          <span class="usage-reset tabular">
            <span class="usage-word">resets</span> {formatReset(h.resetsAt, at)}
          </span>
        )
        : null}
    </span>
  );
}

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="usage-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** The opened panel. */
function Details({ report }: { report: UsageReport }) {
  const at = now.value;
  const rl = report.rate_limit;
  const poll = report.oauth_poll;
  const cred = report.proxy.credential;
  const stats = report.proxy.stats;
  const others = (rl?.windows ?? []).filter((w) => w.name !== "5h" && w.name !== "7d");
  const t = report.totals;
  return (
    <div class="usage-pop" role="group" aria-label="Usage details">
      <section>
        <h2>Headroom</h2>
        <dl class="usage-grid">
          {KEYS.map((key) => {
            const h = headroomOf(report, key, at);
            const level = headroomLevel(h);
            return (
              <Row key={key} label={h.label}>
                <span class={`usage-${level} usage-line`} data-detail-window={key}>
                  <strong class="tabular usage-left">{headroomText(h, report)}</strong>
                  {h.left !== null && !h.stale ? " left" : ""}
                  {h.resetsAt !== null
                    ? (
                      <span class="meta">
                        {` · ${h.stale ? "reset" : "resets"} ${formatReset(h.resetsAt, at)} (${
                          formatFromNow(h.resetsAt, at)
                        })`}
                      </span>
                    )
                    : null}
                </span>
                <Bar fraction={h.stale ? null : h.left} level={level} width={240} height={6} />
                <span class="meta usage-source">
                  {h.source === null
                    ? noReadingWhy(report)
                    : `${h.source === "proxy" ? "Quota proxy" : "OAuth usage poll"} · ${
                      formatFromNow(h.readAt!, at)
                    }${h.status ? ` · ${h.status}` : ""}`}
                </span>
              </Row>
            );
          })}
          {others.map((w) => (
            <Row key={w.name} label={oneLine(w.name, 40)}>
              <span class="tabular">
                {w.utilization !== null
                  ? `${formatPercent(1 - w.utilization)} left`
                  : w.remaining !== null && w.limit !== null
                  ? `${formatTokens(w.remaining)} of ${formatTokens(w.limit)} left`
                  : "—"}
              </span>
              {w.resets_at !== null
                ? <span class="meta">{` · resets ${formatReset(w.resets_at, at)}`}</span>
                : null}
            </Row>
          ))}
          {rl
            ? (
              <Row label="Latest reply">
                <span class="meta">
                  HTTP {rl.http_status} · {formatFromNow(rl.ts, at)}
                  {rl.unified_status ? ` · ${oneLine(rl.unified_status, 40)}` : ""}
                  {rl.representative_claim
                    ? ` · bound by ${oneLine(rl.representative_claim, 40)}`
                    : ""}
                  {rl.fallback ? ` · fallback ${oneLine(rl.fallback, 40)}` : ""}
                </span>
              </Row>
            )
            : null}
        </dl>
      </section>
      <section>
        <h2>Cost</h2>
        <Sparkline
          values={costValues(report)}
          label={burnLabel(report)}
          width={340}
          height={44}
          className="spark-big"
        />
        <div class="spark-axis meta" aria-hidden="true">
          <span>
            {Math.round(report.series.buckets.length * report.series.bucket_ms / 3_600_000)} h ago
          </span>
          <span>now</span>
        </div>
        <p class="meta">{burnLabel(report)}</p>
        <dl class="usage-grid">
          <Row label="Today">
            <strong class="tabular" data-testid="usage-today-detail">
              {formatCost(report.cost_today_usd)}
            </strong>
            <span class="meta">
              {` · ${t.turns} turn${t.turns === 1 ? "" : "s"} · ${
                formatTokens(
                  t.input_tokens + t.output_tokens + t.cache_read_tokens + t.cache_creation_tokens,
                )
              } tokens`}
            </span>
          </Row>
        </dl>
      </section>
      <Budgets report={report} />
      <section>
        <h2>Sources</h2>
        <dl class="usage-grid">
          <Row label="OAuth poll">
            <span class={`usage-poll usage-poll-${poll.status}`} data-testid="usage-poll">
              {poll.status}
            </span>
            {poll.detail ? <span class="meta">{` · ${oneLine(poll.detail, 200)}`}</span> : null}
            {poll.last_ok
              ? <span class="meta">{` · last ok ${formatFromNow(poll.last_ok.ts, at)}`}</span>
              : null}
          </Row>
          <Row label="Proxy">
            <span data-testid="usage-scope">{report.proxy.scope}</span>
            <span class="meta">
              {` · credential ${cred.kind ?? "none"}`}
              {cred.source ? ` (${oneLine(cred.source, 60)})` : ""}
              {cred.expires_at ? ` · expires ${formatReset(cred.expires_at, at)}` : ""}
              {cred.detail ? ` · ${oneLine(cred.detail, 120)}` : ""}
            </span>
          </Row>
          {stats
            ? (
              <Row label="Requests">
                <span class="tabular meta">
                  {stats.requests} in · {stats.forwarded} forwarded · {stats.in_flight} open ·{" "}
                  {stats.refused_token + stats.refused_other} refused · {stats.upstream_errors}{" "}
                  upstream errors
                </span>
              </Row>
            )
            : null}
        </dl>
      </section>
    </div>
  );
}

/** The daily and per-directory budgets (what is used and left) and why starts wait, if they do. */
function Budgets({ report }: { report: UsageReport }) {
  const q = report.quota;
  const used = (spent: number, cap: number, left: number) =>
    `${formatCost(spent)} of ${formatCost(cap)} · ${formatCost(left)} left`;
  return (
    <section>
      <h2>Budgets</h2>
      <dl class="usage-grid" data-testid="usage-budgets">
        <Row label="Today, all">
          <span class="tabular" data-testid="budget-daily">
            {q.daily_budget_usd === null
              ? "no daily budget"
              : used(report.cost_today_usd, q.daily_budget_usd, q.daily_remaining_usd ?? 0)}
          </span>
        </Row>
        {q.cwd_budgets.map((b) => (
          <Row key={b.cwd} label={oneLine(b.cwd, 40)}>
            <span class="tabular" data-testid="budget-cwd" title={b.cwd}>
              {used(b.used_usd, b.budget_usd, b.remaining_usd)}
            </span>
          </Row>
        ))}
        {q.admission
          ? (
            <Row label="New starts">
              <span class="meta" data-testid="budget-admission">{q.admission.reason}</span>
            </Row>
          )
          : null}
      </dl>
    </section>
  );
}

/** The meter (and its panel). Renders nothing until the first reading. */
export function UsageMeter() {
  const ref = useRef<HTMLDetailsElement>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    const close = (e: Event) => {
      const el = ref.current;
      if (!el?.open) return;
      if (e instanceof KeyboardEvent) {
        if (e.key !== "Escape") return;
        el.open = false;
        el.querySelector("summary")?.focus();
        return;
      }
      if (!el.contains(e.target as Node)) el.open = false;
    };
    document.addEventListener("click", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("click", close);
      document.removeEventListener("keydown", close);
    };
  }, []);
  const report = usageReport.value;
  const error = usageError.value;
  if (!report) {
    return error
      ? <span class="usage usage-failed" title={`Cannot read usage: ${error}`}>Usage ?</span>
      : null;
  }
  const at = Date.now();
  const heads = KEYS.map((key) => headroomOf(report, key, at));
  return (
    <details
      class="usage"
      ref={ref}
      data-testid="usage"
      onToggle={(e) => setOpen(e.currentTarget.open)}
    >
      <summary
        class="usage-summary"
        title={error ? `Cannot refresh usage: ${error}` : "Usage: rate-limit headroom and cost"}
      >
        {heads.map((h) => <WindowChip key={h.key} h={h} at={at} report={report} />)}
        <Sparkline values={costValues(report)} label={burnLabel(report)} />
        <span class="usage-cost">
          <span class="usage-word">Today</span>{" "}
          <strong class="tabular" data-testid="usage-today">
            {formatCost(report.cost_today_usd)}
          </strong>
        </span>
        {error ? <span class="usage-stale" aria-label="not refreshed">!</span> : null}
      </summary>
      {open ? <Details report={report} /> : null}
    </details>
  );
}
