/**
 * Island: one agent. Header (status, session, tokens, cost, active time), actions, panels (prompt,
 * commit proposal, usage and proxy figures, shadow agents), follow-up composer and the live
 * transcript. Loads only the newest page of lines first, then follows the agent's events from the
 * page's one stream; the panels load after the first screen.
 * @module
 */
import { render } from "preact";
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Agent, SystemHealth } from "@hero/sdk";
import { AgentActions, FollowUp } from "../components/agent_actions.tsx";
import { displayName, ErrorFix } from "../components/agent_card.tsx";
import { AgentExtras } from "../components/agent_extras.tsx";
import { BudgetForm } from "../components/budget_form.tsx";
import { ApprovalList } from "../components/approval_card.tsx";
import { applyApprovals, loadPendingApprovals, pendingApprovals } from "../state/approvals.ts";
import { LongText } from "../components/long_text.tsx";
import { Review } from "../components/review.tsx";
import { StatusBadge } from "../components/status_badge.tsx";
import { type SearchTarget, searchTargetFromUrl } from "../components/search_target.ts";
import { Transcript } from "../components/transcript.tsx";
import {
  activeMs,
  formatCost,
  formatDateTime,
  formatDuration,
  formatTokens,
} from "../lib/format.ts";
import { oneLine } from "../lib/sanitize.ts";
import { agentChanged, commitInfo, startExtras } from "../state/agent_extras.ts";
import { agentSignal, upsertAgent } from "../state/agents.ts";
import { agentHref, href } from "../state/base.ts";
import { now, startClock } from "../state/clock.ts";
import { openEventStream } from "../state/events.ts";
import { batch, call, messageOf, RpcError } from "../state/rpc.ts";
import { applyLive, lines, loadLatest } from "../state/transcript.ts";
import { applyDeltas, storedLines } from "../state/live_text.ts";
import { startUsage } from "../state/usage.ts";

const pageState = signal<"loading" | "ready" | "gone" | "deleted" | "error">("loading");
const pageError = signal<string | null>(null);
/** The tab below the header: the transcript, or the review of the agent's changes. */
const tab = signal<"transcript" | "review">("transcript");
/** A search hit to open (`?seq=N&q=…`), read when the island mounts. */
let searchTarget: SearchTarget | undefined;

async function start(id: string): Promise<void> {
  startClock();
  try {
    // One round trip: the resume point of the stream and the agent. Every event after the resume
    // point is replayed, so nothing between these reads and the stream is lost; lines seen twice
    // are dropped by seq, older agent rows by updated_at.
    const [health, got] = await batch([
      { method: "system.health", params: {} },
      { method: "agent.get", params: { id } },
    ]);
    if (health instanceof RpcError) throw health;
    if (got instanceof RpcError) throw got;
    const after = (health as SystemHealth).checks.events.last_event_id;
    const agent = got as Agent;
    upsertAgent(agent);
    document.title = `${displayName(agent)} · Hero Orchestrator`;
    await loadLatest(id, agent.last_seq, searchTarget?.seq);
    pageState.value = "ready";
    requestAnimationFrame(() => {
      performance.mark("hero:first-screen");
      document.documentElement.dataset.ready = "agent";
      // Secondary reads wait for the first screen.
      startExtras(agent);
      startUsage();
      void loadPendingApprovals(id).catch(() => {});
    });
    const closeStream = openEventStream({
      agent: id,
      after,
      onEvents(events) {
        const messages = [];
        for (const e of events) {
          if (e.event === "agent") {
            upsertAgent(e.data);
            agentChanged(e.data);
          } else if (e.event === "agent_deleted") {
            // Deleted elsewhere (another page, the CLI): the lines are gone with it.
            if (e.data.id === id) {
              closeStream();
              pageState.value = "deleted";
              return;
            }
          } else if (e.event === "approval") applyApprovals([e.data]);
          else messages.push(e.data);
        }
        if (messages.length > 0) {
          applyLive(messages);
          storedLines(messages.map((m) => m.type));
        }
      },
      onDeltas: applyDeltas,
      onFatal(status) {
        // The stream may connect only after a delete: the agent this page showed was deleted.
        if (status === "404") pageState.value = "deleted";
      },
    });
    // Whatever the server did before the resume point is in this newer read.
    upsertAgent(await call("agent.get", { id }));
  } catch (err) {
    if (pageState.peek() === "deleted") return;
    if (err instanceof RpcError && err.reason === "not_found") {
      // Not found after the page showed it (the re-read raced a delete): deleted.
      pageState.value = pageState.peek() === "ready" ? "deleted" : "gone";
    } else {
      pageError.value = messageOf(err);
      pageState.value = "error";
    }
  }
}

function Stat(
  { label, value, title, testId }: {
    label: string;
    value: string;
    title?: string;
    testId?: string;
  },
) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd class="tabular" title={title} data-testid={testId}>{value}</dd>
    </div>
  );
}

function Header({ agent }: { agent: Agent }) {
  const active = activeMs(agent, agent.active_since === null ? 0 : now.value);
  const tokens = agent.input_tokens + agent.output_tokens + agent.cache_read_tokens +
    agent.cache_creation_tokens;
  return (
    <header class="agent-head">
      <div class="agent-title">
        <a class="back" href={href("/")}>← Agents</a>
        <h1>{displayName(agent)}</h1>
        <StatusBadge agent={agent} />
        <AgentActions agent={agent} />
      </div>
      <dl class="stats">
        <Stat
          label="Active"
          value={formatDuration(active)}
          title="time spent running turns (not queued, in review, paused or idle)"
          testId="active-time"
        />
        <Stat
          label="Tokens"
          value={formatTokens(tokens)}
          title={`in ${agent.input_tokens} · out ${agent.output_tokens} · cache read ${agent.cache_read_tokens} · cache write ${agent.cache_creation_tokens}`}
        />
        <Stat label="Cost" value={formatCost(agent.total_cost_usd)} />
        <Stat label="Turns" value={String(agent.turn_count)} />
        <Stat label="Model" value={`${agent.model} · ${agent.effort}`} />
        <Stat label="Created" value={formatDateTime(agent.created_at)} />
      </dl>
      <dl class="agent-ids">
        <div>
          <dt>Working directory</dt>
          <dd class="mono">{oneLine(agent.cwd, 600)}</dd>
        </div>
        <div>
          <dt>Session</dt>
          <dd class="mono" data-testid="session-id">
            {agent.session_id ? oneLine(agent.session_id, 100) : "—"}
          </dd>
        </div>
        <div>
          <dt>Agent</dt>
          <dd class="mono">{agent.id}</dd>
        </div>
        {agent.parent_id
          ? (
            <div>
              <dt>{agent.kind === "shadow" ? "Shadow of" : "Parent"}</dt>
              <dd class="mono">
                <a href={agentHref(agent.parent_id)} data-testid="parent-link">
                  {agent.parent_id}
                </a>
              </dd>
            </div>
          )
          : null}
      </dl>
      {agent.error_message
        ? (
          // A cancel is what the person asked for: said plainly, not as a red error.
          <div
            class={agent.status === "cancelled" ? "alert alert-note" : "alert alert-error"}
            role="status"
            data-testid="agent-error"
          >
            <strong>
              {agent.status === "cancelled" ? "Cancelled" : agent.error_code ?? "error"}
            </strong>
            : <LongText text={agent.error_message} limit={2000} />
            <ErrorFix
              fix={agent.status === "cancelled" ? null : agent.error_fix}
              class="alert-fix"
            />
          </div>
        )
        : null}
      <ApprovalList approvals={pendingApprovals.value.filter((a) => a.agent_id === agent.id)} />
      <AgentExtras agent={agent} />
      <BudgetForm agent={agent} />
      {agent.status === "awaiting_review" || agent.status === "failed" ||
          agent.status === "running" ||
          (agent.kind === "imported" && agent.session_id)
        ? <FollowUp agent={agent} />
        : null}
    </header>
  );
}

function AgentPage({ id }: { id: string }) {
  useEffect(() => {
    void start(id);
  }, [id]);
  const state = pageState.value;
  if (state === "deleted") {
    const gone = agentSignal(id)?.peek();
    return (
      <div class="notice" role="status" data-testid="agent-deleted">
        <h1>Agent deleted</h1>
        <p>
          {gone ? `“${displayName(gone)}”` : "This agent"} was deleted, with its transcript.{" "}
          <a href={href("/")}>Back to the agents</a>
        </p>
      </div>
    );
  }
  if (state === "gone") {
    return (
      <div class="notice">
        <h1>Agent not found</h1>
        <p>
          It may have been deleted. <a href={href("/")}>Back to the agents</a>
        </p>
      </div>
    );
  }
  if (state === "error") {
    return <p class="alert alert-error" role="alert">Cannot load this agent: {pageError.value}</p>;
  }
  const agent = agentSignal(id)?.value;
  if (!agent) return <p class="placeholder">Loading agent…</p>;
  void lines.value;
  const live = agent.status === "running" || agent.status === "queued";
  // The Review tab only for agents with changes to review: their own worktree, or a git snapshot.
  const info = commitInfo.value;
  const reviewable = info !== null && (info.isolation !== null || info.worktree !== null);
  return (
    <div class="agent-page" data-state={state}>
      <Header agent={agent} />
      {reviewable
        ? (
          <div class="tabs" role="tablist">
            {(["transcript", "review"] as const).map((t) => (
              <button
                key={t}
                type="button"
                role="tab"
                class="tab"
                data-tab={t}
                aria-selected={tab.value === t}
                onClick={() => (tab.value = t)}
              >
                {t === "transcript" ? "Transcript" : "Review"}
              </button>
            ))}
          </div>
        )
        : null}
      {reviewable && tab.value === "review"
        ? <Review agent={agent} />
        : state === "loading"
        ? <p class="placeholder">Loading transcript…</p>
        : (
          <Transcript
            live={live}
            target={searchTarget}
            forkFrom={agent.session_id && agent.kind !== "shadow" ? agent.id : null}
          />
        )}
    </div>
  );
}

/** Mounts the island. */
export function mount(el: HTMLElement, props: { id: string }): void {
  searchTarget = searchTargetFromUrl(location.search);
  render(<AgentPage id={props.id} />, el);
}
