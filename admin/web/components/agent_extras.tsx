/**
 * The agent page's collapsible panels beside the prompt: the commit proposal (commit shadow),
 * usage and what the quota proxy saw on the wire, and the agent's shadow agents.
 * @module
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { Agent, CommitInfo, RateLimitSnapshot } from "@hero/sdk";
import { formatClock, formatCost, formatDateTime, formatTokens } from "../lib/format.ts";
import { oneLine } from "../lib/sanitize.ts";
import { formatBytes, formatPercent } from "../lib/usage.ts";
import {
  agentUsage,
  type AgentUsageView,
  commitInfo,
  extrasError,
  proxyScope,
  shadows,
} from "../state/agent_extras.ts";
import { agentHref } from "../state/base.ts";
import { displayName } from "./agent_card.tsx";
import { LongText } from "./long_text.tsx";
import { StatusBadge } from "./status_badge.tsx";

/** A `<details>` whose first open state is `initiallyOpen`, then the operator's. */
function Panel(
  { name, summary, initiallyOpen = false, children }: {
    name: string;
    summary: ComponentChildren;
    initiallyOpen?: boolean;
    children: ComponentChildren;
  },
) {
  const [open, setOpen] = useState(initiallyOpen);
  return (
    <details
      class={`agent-panel agent-panel-${name}`}
      data-panel={name}
      open={open}
      onToggle={(e) => setOpen(e.currentTarget.open)}
    >
      <summary>{summary}</summary>
      {open ? <div class="agent-panel-body">{children}</div> : null}
    </details>
  );
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

function firstLine(text: string, max = 90): string {
  return oneLine(text.split("\n", 1)[0] ?? "", max);
}

/** Whether "Complete & commit" makes sense for this commit state. */
export function canCommit(info: CommitInfo | null): boolean {
  if (!info?.worktree) return false;
  if (info.proposal?.sha) return false;
  return info.proposal !== null || info.shadow_pending;
}

function CommitPanel({ agent, info }: { agent: Agent; info: CommitInfo }) {
  const p = info.proposal;
  const wt = info.worktree!;
  let state: ComponentChildren;
  if (p?.sha) {
    state = (
      <>
        committed <code class="commit-sha">{short(p.sha)}</code>
      </>
    );
  } else if (info.shadow_pending) state = "writing the message…";
  else if (agent.status === "queued" || agent.status === "running") {
    state = <span class="meta">proposed when the run ends</span>;
  } else if (p) {
    state = (
      <>
        <span class="commit-subject">{firstLine(p.message)}</span>
        <span class="meta">{` · ${p.files.length} file${p.files.length === 1 ? "" : "s"}`}</span>
      </>
    );
  } else {
    state = <span class="meta">nothing to commit</span>;
  }
  return (
    <Panel
      name="commit"
      initiallyOpen={agent.status === "awaiting_review" && p !== null && !p.sha}
      summary={
        <>
          <span class="panel-label">Commit</span> <span data-testid="commit-state">{state}</span>
        </>
      }
    >
      {p
        ? (
          <>
            <pre class="commit-message" data-testid="commit-message">{p.message}</pre>
            <p class="meta">
              {p.source === "shadow"
                ? "Written by the commit shadow"
                : "A fixed message (the commit shadow wrote no usable one)"}
              {p.shadow_id
                ? (
                  <>
                    {" "}· <a href={agentHref(p.shadow_id)}>shadow run</a>
                  </>
                )
                : null} · prepared {formatDateTime(p.prepared_at)}
              {p.sha && p.committed_at
                ? (
                  <>
                    {" "}· committed <code>{short(p.sha)}</code> at {formatDateTime(p.committed_at)}
                  </>
                )
                : null}
            </p>
            <ul class="commit-files mono" aria-label="Files">
              {p.files.slice(0, 200).map((f) => <li key={f}>{oneLine(f, 300)}</li>)}
              {p.files.length > 200 ? <li class="meta">… {p.files.length - 200} more</li> : null}
            </ul>
          </>
        )
        : info.shadow_pending
        ? <p class="meta">The commit shadow is writing a message for the agent's changes…</p>
        : agent.status === "queued" || agent.status === "running"
        ? (
          <p class="meta">
            When the run ends with changed files, a commit message is proposed for them.
          </p>
        )
        : (
          <p class="meta">
            Nothing to commit: no file that was clean when the agent started has changed. (Files
            that already had uncommitted changes are never committed on an agent's behalf.)
          </p>
        )}
      <p class="meta">
        Work tree <span class="mono">{oneLine(wt.toplevel, 300)}</span>
        {wt.head
          ? (
            <span>
              {" at "}
              <code>{short(wt.head)}</code>
            </span>
          )
          : null}
        {" when the agent started"}
      </p>
    </Panel>
  );
}

function Figure({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd class="tabular" title={title}>{value}</dd>
    </div>
  );
}

function header(s: RateLimitSnapshot, name: string): string | null {
  const v = s.headers[`anthropic-ratelimit-${name}`];
  return typeof v === "string" ? v : null;
}

function utilization(s: RateLimitSnapshot, window: string): string {
  const raw = header(s, `unified-${window}-utilization`);
  const n = raw === null ? NaN : Number(raw);
  return Number.isFinite(n) ? `${formatPercent(n)} used` : "—";
}

/** The agent's budgets: what is used of each and what is left. */
function budgetText(b: AgentUsageView["budget"]): string {
  const parts: string[] = [];
  if (b.max_cost_usd !== null) {
    parts.push(
      `${formatCost(b.cost_usd)} of ${formatCost(b.max_cost_usd)} (${
        formatCost(b.remaining_cost_usd ?? 0)
      } left)`,
    );
  }
  if (b.max_turns !== null) {
    parts.push(`${b.turns} of ${b.max_turns} turns (${b.remaining_turns ?? 0} left)`);
  }
  return parts.length > 0 ? parts.join(" · ") : "none";
}

function UsagePanel({ view }: { view: AgentUsageView }) {
  const u = view.usage;
  const px = view.proxy;
  const scope = proxyScope.value;
  const tokens = (t: { input_tokens: number; output_tokens: number }) =>
    `${formatTokens(t.input_tokens)} in · ${formatTokens(t.output_tokens)} out`;
  const summary = px
    ? (
      <>
        <span class="panel-label">Proxy</span>{" "}
        <span class="tabular" data-testid="proxy-summary">
          {px.requests} request{px.requests === 1 ? "" : "s"} · {px.errors} error
          {px.errors === 1 ? "" : "s"}
          {px.last_status !== null ? ` · last HTTP ${px.last_status}` : ""}
        </span>
      </>
    )
    : (
      <>
        <span class="panel-label">Proxy</span>{" "}
        <span class="meta" data-testid="proxy-summary">
          {scope === "shadows_only"
            ? "not used: this agent talks to the API directly"
            : scope === "off"
            ? "off"
            : "no requests yet"}
        </span>
      </>
    );
  return (
    <Panel name="usage" summary={summary}>
      <div class="usage-cols">
        <section>
          <h3>Reported by the CLI</h3>
          <dl class="figures" data-testid="cli-usage">
            <Figure label="Turns" value={String(u.turns)} />
            <Figure label="Tokens" value={tokens(u)} />
            <Figure
              label="Cache"
              value={`${formatTokens(u.cache_read_tokens)} read · ${
                formatTokens(u.cache_creation_tokens)
              } written`}
            />
            <Figure label="Cost" value={formatCost(u.cost_usd)} title={`$${u.cost_usd}`} />
            <Figure label="Budget" value={budgetText(view.budget)} />
          </dl>
        </section>
        <section>
          <h3>Seen by the quota proxy</h3>
          {px
            ? (
              <dl class="figures" data-testid="proxy-stats">
                <Figure label="Requests" value={String(px.requests)} />
                <Figure label="Errors" value={String(px.errors)} />
                <Figure label="Tokens" value={tokens(px)} />
                <Figure
                  label="Cache"
                  value={`${formatTokens(px.cache_read_tokens)} read · ${
                    formatTokens(px.cache_creation_tokens)
                  } written`}
                />
                <Figure
                  label="Bytes"
                  value={`${formatBytes(px.bytes_in)} up · ${formatBytes(px.bytes_out)} down`}
                  title={`request bodies sent upstream: ${px.bytes_in} B; answers passed back: ${px.bytes_out} B`}
                />
                <Figure
                  label="Last status"
                  value={px.last_status === null ? "—" : `HTTP ${px.last_status}`}
                />
                <Figure
                  label="Active"
                  value={`${formatClock(px.first_at)} – ${formatClock(px.last_at)}`}
                  title={`${formatDateTime(px.first_at)} – ${formatDateTime(px.last_at)}`}
                />
              </dl>
            )
            : (
              <p class="meta">
                {scope === "shadows_only"
                  ? "This agent talked to the API directly: the proxy carries shadow agents only (HERO_ORCHESTRATOR_PROXY_SCOPE=shadows_only)."
                  : scope === "off"
                  ? "The quota proxy is off."
                  : "No request of this agent went through the proxy."}
              </p>
            )}
        </section>
      </div>
      {view.snapshots.length > 0
        ? (
          <div class="table-wrap">
            <table class="snapshots" data-testid="snapshots">
              <caption class="meta">Newest rate-limit readings of this agent</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Request</th>
                  <th scope="col">HTTP</th>
                  <th scope="col">Status</th>
                  <th scope="col">5h</th>
                  <th scope="col">7d</th>
                </tr>
              </thead>
              <tbody>
                {view.snapshots.slice(0, 8).map((s) => (
                  <tr key={s.id}>
                    <td class="tabular">{formatClock(s.ts)}</td>
                    <td class="mono">{oneLine(`${s.method} ${s.path}`, 80)}</td>
                    <td class="tabular">{s.status}</td>
                    <td>{oneLine(header(s, "unified-status") ?? "—", 40)}</td>
                    <td class="tabular">{utilization(s, "5h")}</td>
                    <td class="tabular">{utilization(s, "7d")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
        : null}
    </Panel>
  );
}

function ShadowsPanel({ list }: { list: Agent[] }) {
  const active = list.filter((s) => s.status === "queued" || s.status === "running").length;
  return (
    <Panel
      name="shadows"
      summary={
        <>
          <span class="panel-label">Helper runs</span>{" "}
          <span class="tabular" data-testid="shadow-count">{list.length}</span>
          <span class="meta">(title and commit message, run by the service)</span>
          {active > 0 ? <span class="meta">· {active} running</span> : null}
        </>
      }
    >
      <ul class="shadow-list">
        {list.map((s) => (
          <li key={s.id} data-shadow-id={s.id}>
            <StatusBadge agent={s} />
            <a class="shadow-name" href={agentHref(s.id)}>{displayName(s)}</a>
            <span class="meta">{s.model} · {formatCost(s.total_cost_usd)}</span>
            <span class="shadow-result">
              {s.error_message
                ? oneLine(s.error_message, 200)
                : s.result
                ? firstLine(s.result.trim(), 200)
                : ""}
            </span>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

/** The panels, beside the prompt. */
export function AgentExtras({ agent }: { agent: Agent }) {
  const info = commitInfo.value;
  const usage = agentUsage.value;
  const list = shadows.value;
  const error = extrasError.value;
  return (
    <div class="agent-more">
      <details class="agent-panel agent-prompt">
        <summary>
          <span class="panel-label">Prompt</span>
        </summary>
        <LongText text={agent.prompt} limit={8000} />
      </details>
      {info?.worktree
        ? <CommitPanel key={info.proposal ? "proposal" : "none"} agent={agent} info={info} />
        : null}
      {usage ? <UsagePanel view={usage} /> : null}
      {list.length > 0 ? <ShadowsPanel list={list} /> : null}
      {error ? <span class="meta meta-warn" title={error}>Some details could not load</span> : null}
    </div>
  );
}
