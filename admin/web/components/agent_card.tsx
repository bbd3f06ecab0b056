/** One agent on the dashboard: name, cwd, model/effort, status, active time, tokens, cost, last line. */
import type { Signal } from "@preact/signals";
import type { Agent } from "@hero/sdk";
import { activeMs, formatCost, formatDuration, formatTokens, pauseText } from "../lib/format.ts";
import { oneLine, previewLine } from "../lib/sanitize.ts";
import { agentHref } from "../state/base.ts";
import { lastLineSignal } from "../state/agents.ts";
import { now } from "../state/clock.ts";
import { diffStatOf, overlapOf } from "../state/diff_stats.ts";
import { StatusBadge } from "./status_badge.tsx";

/** A display name: the agent's name, else the first line of its prompt. */
export function displayName(agent: Pick<Agent, "name" | "prompt">): string {
  return oneLine(agent.name || agent.prompt, 90) || "(no prompt)";
}

/** A failure on a card: one line, the full text as a tooltip and, when cut, expandable. */
function CardError({ message }: { message: string }) {
  const short = oneLine(message, 240);
  const full = message.trim();
  if (short === full) {
    return <p class="card-error" title={full} data-testid="card-error">{short}</p>;
  }
  return (
    <details class="card-error card-error-long" data-testid="card-error">
      <summary title={full}>{short}</summary>
      <pre class="card-error-full">{full}</pre>
    </details>
  );
}

/** What a person can do about a failure (`error_fix`), under the error. */
export function ErrorFix({ fix, class: cls }: { fix: string | null; class: string }) {
  if (!fix) return null;
  return (
    <p class={cls} data-testid="error-fix">
      <strong>Fix:</strong> {fix}
    </p>
  );
}

/** The dashboard card of `agent`. */
export function AgentCard({ agent }: { agent: Signal<Agent> }) {
  const a = agent.value;
  const last = lastLineSignal(a.id).value || (a.result ? previewLine(a.result, 240) : "");
  const tokens = a.input_tokens + a.output_tokens + a.cache_read_tokens + a.cache_creation_tokens;
  const live = a.status === "running" || a.status === "queued";
  // Only a running agent's time moves: read the clock (and re-render each second) just then.
  const active = activeMs(a, a.active_since === null ? 0 : now.value);
  const diff = diffStatOf(a)?.value ?? null;
  const overlap = diff ? overlapOf(a.id).value : null;
  return (
    <li class={`card card-${a.status}`} data-agent-id={a.id}>
      <a class="card-name" href={agentHref(a.id)}>{displayName(a)}</a>
      <div class="card-meta">
        <StatusBadge agent={a} />
        <span class="card-model">{a.model} · {a.effort}</span>
      </div>
      <div class="card-cwd" title={a.cwd}>
        <span class="cwd-text">{oneLine(a.cwd, 400)}</span>
      </div>
      <dl class="card-stats">
        <div>
          <dt>Active</dt>
          <dd
            class="tabular"
            data-testid="active-time"
            title="time spent running turns (not queued, in review, paused or idle)"
          >
            {formatDuration(active)}
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd
            class="tabular"
            title={`in ${a.input_tokens} · out ${a.output_tokens} · cache read ${a.cache_read_tokens} · cache write ${a.cache_creation_tokens}`}
          >
            {formatTokens(tokens)}
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd class="tabular">{formatCost(a.total_cost_usd)}</dd>
        </div>
        {diff
          ? (
            <div data-testid="card-diff">
              <dt>Changes</dt>
              <dd class="tabular">
                {diff.files} {diff.files === 1 ? "file" : "files"}{" "}
                <span class="diff-stat-add">+{diff.additions}</span>{" "}
                <span class="diff-stat-del">−{diff.deletions}</span>
              </dd>
            </div>
          )
          : null}
        {overlap && overlap.files.length > 0
          ? (
            <div data-testid="card-overlap" class="card-overlap">
              <dt>Overlap</dt>
              <dd title={`Also changed by ${overlap.agents.join(", ")}`}>
                {overlap.agents.length === 1 ? "another agent" : `${overlap.agents.length} agents`}
                {" "}
                changed {overlap.files.join(", ")} too
              </dd>
            </div>
          )
          : null}
      </dl>
      {a.status === "paused"
        ? (
          <p class="card-pause" data-testid="card-pause" title={a.error_message ?? undefined}>
            {pauseText(a, now.value)}
          </p>
        )
        : a.status === "failed" && a.error_message
        ? (
          <>
            <CardError message={a.error_message} />
            <ErrorFix fix={a.error_fix} class="card-fix" />
          </>
        )
        : last
        ? <p class="card-last" data-testid="last-line">{last}</p>
        : <p class="card-last card-last-empty">{live ? "Waiting for output…" : "No output"}</p>}
    </li>
  );
}
