/** One agent on the dashboard: name, cwd, model/effort, status, live elapsed, tokens, cost, last line. */
import type { Signal } from "@preact/signals";
import type { Agent } from "@hero/sdk";
import { elapsedMs, formatCost, formatDuration, formatTokens } from "../lib/format.ts";
import { oneLine, previewLine } from "../lib/sanitize.ts";
import { agentHref } from "../state/base.ts";
import { lastLineSignal } from "../state/agents.ts";
import { now } from "../state/clock.ts";
import { StatusBadge } from "./status_badge.tsx";

/** A display name: the agent's name, else the first line of its prompt. */
export function displayName(agent: Pick<Agent, "name" | "prompt">): string {
  return oneLine(agent.name || agent.prompt, 90) || "(no prompt)";
}

/** The dashboard card of `agent`. */
export function AgentCard({ agent }: { agent: Signal<Agent> }) {
  const a = agent.value;
  const last = lastLineSignal(a.id).value || (a.result ? previewLine(a.result, 240) : "");
  const tokens = a.input_tokens + a.output_tokens + a.cache_read_tokens + a.cache_creation_tokens;
  const live = a.status === "running" || a.status === "queued";
  const elapsed = elapsedMs(a, live ? now.value : a.updated_at);
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
          <dt>Time</dt>
          <dd class="tabular">{formatDuration(elapsed)}</dd>
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
      </dl>
      {a.status === "failed" && a.error_message
        ? <p class="card-error">{oneLine(a.error_message, 240)}</p>
        : last
        ? <p class="card-last" data-testid="last-line">{last}</p>
        : <p class="card-last card-last-empty">{live ? "Waiting for output…" : "No output"}</p>}
    </li>
  );
}
