/**
 * Island: the dashboard. The readiness banner while agents cannot run, then the buckets (running
 * incl. queued, awaiting review, failed — shown across the top while there are any — and
 * completed incl. cancelled) with counts, a working-directory filter kept in the URL (`?cwd=`), and
 * cards that update live from the page's one event stream.
 * @module
 */
import { render } from "preact";
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { AgentPage, SystemHealth } from "@hero/sdk";
import { AgentCard, displayName } from "../components/agent_card.tsx";
import { ApprovalList } from "../components/approval_card.tsx";
import { applyApprovals, loadPendingApprovals, pendingApprovals } from "../state/approvals.ts";
import { readiness, ReadinessBanner } from "../components/readiness_banner.tsx";
import { assistantText } from "../lib/line.ts";
import {
  agentSignal,
  buckets,
  cwdFilter,
  ensureKnownCwds,
  knownCwds,
  membership,
  refreshKnownCwds,
  removeAgent,
  setLastText,
  upsertAgent,
} from "../state/agents.ts";
import { startClock } from "../state/clock.ts";
import { openEventStream } from "../state/events.ts";
import { batch, type BatchCall, call, messageOf, RpcError } from "../state/rpc.ts";
import { startUsage } from "../state/usage.ts";
import type { MessagePage } from "@hero/sdk";

const loadState = signal<"loading" | "ready" | "error">("loading");
const loadError = signal<string | null>(null);
const completedCursor = signal<string | null>(null);
const loadingMore = signal(false);

const BUCKETS = [
  // Failures first and full width, so they are not lost among the finished ones.
  { key: "failed", title: "Failed", empty: "" },
  // Paused agents (usage limit, budget, by hand) next, with why and when they resume.
  { key: "paused", title: "Paused", empty: "" },
  { key: "running", title: "Running", empty: "Nothing running." },
  { key: "awaiting_review", title: "Awaiting review", empty: "Nothing to review." },
  { key: "completed", title: "Completed", empty: "Nothing completed yet." },
] as const;

const LIVE_LIMIT = 500;
const COMPLETED_PAGE = 50;

function cwdFromUrl(): string | null {
  return new URL(location.href).searchParams.get("cwd") || null;
}

async function loadCompleted(cwd: string | null, cursor: string | null): Promise<void> {
  const page = await call("agent.list", {
    bucket: "completed",
    limit: COMPLETED_PAGE,
    ...(cwd ? { cwd } : {}),
    ...(cursor ? { cursor } : {}),
  });
  for (const a of page.agents) upsertAgent(a);
  completedCursor.value = page.next_cursor;
}

async function loadLastLines(ids: string[]): Promise<void> {
  const targets = ids.map((id) => agentSignal(id)?.peek()).filter((a) => a && a.last_seq > 0)
    .slice(0, 100);
  if (targets.length === 0) return;
  const answers = await batch(targets.map((a) => ({
    method: "agent.messages" as const,
    params: { id: a!.id, before_seq: a!.last_seq + 1, limit: 10 },
  })));
  answers.forEach((answer, i) => {
    if (answer instanceof RpcError) return;
    const page = answer as MessagePage;
    for (let k = page.messages.length - 1; k >= 0; k--) {
      const text = assistantText(page.messages[k]!.raw);
      if (text) {
        setLastText(targets[i]!.id, text);
        break;
      }
    }
  });
}

function liveLists(cwd: string | null): BatchCall[] {
  return [
    { method: "agent.list", params: { bucket: "running", limit: LIVE_LIMIT } },
    { method: "agent.list", params: { bucket: "awaiting_review", limit: LIVE_LIMIT } },
    {
      method: "agent.list",
      params: { bucket: "completed", limit: COMPLETED_PAGE, ...(cwd ? { cwd } : {}) },
    },
  ];
}

function applyLists(answers: unknown[]): AgentPage[] {
  const pages: AgentPage[] = [];
  for (const answer of answers) {
    if (answer instanceof RpcError) throw answer;
    for (const a of (answer as AgentPage).agents) upsertAgent(a);
    pages.push(answer as AgentPage);
  }
  return pages;
}

async function start(): Promise<void> {
  startClock();
  cwdFilter.value = cwdFromUrl();
  try {
    // One round trip: the stream's resume point, then the lists. Every event after the resume
    // point is replayed (duplicates and older rows are ignored by the store).
    const [health, ...lists] = await batch([
      { method: "system.health", params: {} },
      ...liveLists(cwdFilter.peek()),
    ]);
    if (health instanceof RpcError) throw health;
    const after = (health as SystemHealth).checks.events.last_event_id;
    readiness.value = (health as SystemHealth).claude;
    const [running, , completed] = applyLists(lists);
    completedCursor.value = completed!.next_cursor;
    loadState.value = "ready";
    // The header's usage reading waits for the first screen.
    requestAnimationFrame(() => startUsage());
    // The text each card's agent is writing now (deltas), per agent: its message and text so far.
    const writing = new Map<string, { message: string | null; text: string }>();
    openEventStream({
      after,
      onDeltas(deltas) {
        for (const d of deltas) {
          if (d.kind !== "text" || d.parent_tool_use_id !== null) continue;
          const now = writing.get(d.agent_id);
          const text = now && now.message === d.message_id ? now.text + d.text : d.text;
          writing.set(d.agent_id, { message: d.message_id, text });
          setLastText(d.agent_id, text);
        }
      },
      onEvents(events) {
        for (const e of events) {
          if (e.event === "agent") {
            // A new agent may bring a new working directory (or reorder them).
            if (!agentSignal(e.data.id) && e.data.kind !== "shadow") refreshKnownCwds();
            upsertAgent(e.data);
          } else if (e.event === "agent_deleted") {
            removeAgent(e.data.id);
            refreshKnownCwds();
          } else if (e.event === "approval") {
            applyApprovals([e.data]);
          } else {
            const text = assistantText(e.data.raw);
            if (text) {
              writing.delete(e.data.agent_id);
              setLastText(e.data.agent_id, text);
            }
          }
        }
      },
    });
    // Every working directory, not only those of the agents on these pages.
    void ensureKnownCwds();
    // Permission prompts of every agent (events after `after` keep the list current).
    void loadPendingApprovals().catch((err) => (loadError.value = messageOf(err)));
    await loadLastLines(running!.agents.map((a) => a.id));
    // Anything that changed before the resume point is in this newer read.
    applyLists(await batch(liveLists(cwdFilter.peek()).slice(0, 2)));
  } catch (err) {
    loadError.value = messageOf(err);
    loadState.value = "error";
  }
}

function setFilter(cwd: string | null): void {
  if (cwd === cwdFilter.peek()) return;
  cwdFilter.value = cwd;
  const url = new URL(location.href);
  if (cwd) url.searchParams.set("cwd", cwd);
  else url.searchParams.delete("cwd");
  history.pushState(null, "", url);
  loadingMore.value = true;
  loadCompleted(cwd, null).catch((err) => (loadError.value = messageOf(err))).finally(() =>
    loadingMore.value = false
  );
}

function Filter() {
  const cwds = knownCwds.value;
  const current = cwdFilter.value;
  const options = current && !cwds.includes(current) ? [current, ...cwds] : cwds;
  return (
    <div class="filter">
      <label for="cwd-filter">Working directory</label>
      <select
        id="cwd-filter"
        value={current ?? ""}
        onChange={(e) => setFilter(e.currentTarget.value || null)}
      >
        <option value="">All directories</option>
        {options.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
      {current
        ? (
          <button type="button" class="button button-quiet" onClick={() => setFilter(null)}>
            Clear
          </button>
        )
        : null}
    </div>
  );
}

function Bucket({ bucket }: { bucket: typeof BUCKETS[number] }) {
  const ids = buckets.value[bucket.key];
  if ((bucket.key === "failed" || bucket.key === "paused") && ids.length === 0) return null;
  const headingId = `bucket-${bucket.key}`;
  return (
    <section
      class={`bucket bucket-${bucket.key}`}
      aria-labelledby={headingId}
      data-bucket={bucket.key}
    >
      <h2 id={headingId} class="bucket-title">
        {bucket.title} <span class="count" data-testid={`count-${bucket.key}`}>{ids.length}</span>
      </h2>
      {ids.length === 0 ? <p class="empty">{bucket.empty}</p> : (
        <ul class="cards">
          {ids.map((id) => {
            const s = agentSignal(id);
            return s ? <AgentCard key={id} agent={s} /> : null;
          })}
        </ul>
      )}
      {bucket.key === "completed" && completedCursor.value
        ? (
          <button
            type="button"
            class="button button-quiet load-more"
            disabled={loadingMore.value}
            onClick={() => {
              loadingMore.value = true;
              loadCompleted(cwdFilter.peek(), completedCursor.peek()).catch((err) =>
                loadError.value = messageOf(err)
              ).finally(() => loadingMore.value = false);
            }}
          >
            {loadingMore.value ? "Loading…" : "Load older"}
          </button>
        )
        : null}
    </section>
  );
}

function Dashboard() {
  useEffect(() => {
    void start();
    const onPop = () => (cwdFilter.value = cwdFromUrl());
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  void membership.value;
  const state = loadState.value;
  return (
    <div class="dashboard" data-state={state}>
      <div class="toolbar">
        <h1 class="page-title">Agents</h1>
        <Filter />
      </div>
      <ReadinessBanner />
      <ApprovalList
        approvals={pendingApprovals.value}
        nameOf={(id) => {
          const agent = agentSignal(id)?.peek();
          return agent ? displayName(agent) : null;
        }}
      />
      {loadError.value ? <p class="alert alert-error" role="alert">{loadError.value}</p> : null}
      {state === "loading" ? <p class="placeholder">Loading agents…</p> : (
        <div class="buckets">
          {BUCKETS.map((b) => <Bucket key={b.key} bucket={b} />)}
        </div>
      )}
    </div>
  );
}

/** Mounts the island. */
export function mount(el: HTMLElement): void {
  render(<Dashboard />, el);
}
