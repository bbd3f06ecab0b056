/**
 * What the agent page shows beside the transcript: the agent's usage and what the quota proxy saw
 * for it (`usage.get {agent_id}`), its commit state and proposal (`agent.commit_info`) and its
 * shadow agents (`agent.list {parent_id}`). Loaded in one batch after the first screen, again
 * soon after the agent's status, turns, tokens or cost move (throttled), and polled: every 2 s
 * while a shadow runs or a commit message is being written, every 5 s while the agent runs,
 * every 30 s otherwise. Shadows have no events on the agent page's stream (it carries this
 * agent's only), hence the polling.
 * @module
 */
import { signal } from "@preact/signals";
import type { Agent, AgentPage, CommitInfo, UsageReport } from "@hero/sdk";
import { batch, messageOf, RpcError } from "./rpc.ts";

/** `usage.get`'s per-agent part. */
export type AgentUsageView = NonNullable<UsageReport["agent"]>;

/** The agent's usage and proxy tally. */
export const agentUsage = signal<AgentUsageView | null>(null);
/** The proxy's scope (to explain a missing tally). */
export const proxyScope = signal<UsageReport["proxy"]["scope"] | null>(null);
/** Its commit state; null until loaded (or when the server cannot tell). */
export const commitInfo = signal<CommitInfo | null>(null);
/** Its shadow agents, newest first. */
export const shadows = signal<Agent[]>([]);
/** Shadows were loaded at least once. */
export const shadowsLoaded = signal(false);
/** The last load error (the last good figures stay shown). */
export const extrasError = signal<string | null>(null);

/** Refresh interval while a shadow or a commit message is under way, while the agent runs, else. */
export const BUSY_POLL_MS = 2_000;
export const RUNNING_POLL_MS = 5_000;
export const IDLE_POLL_MS = 30_000;
/** At most one event-driven refresh per this interval. */
const THROTTLE_MS = 1_000;

let agentId = "";
let parentActive = false;
let timer: ReturnType<typeof setTimeout> | null = null;
let inFlight: Promise<void> | null = null;
let again = false;
let lastLoad = 0;
/** What of the agent, as last seen, the panels depend on. */
let lastKey = "";

function keyOf(agent: Agent): string {
  return [
    agent.status,
    agent.turn_count,
    agent.total_cost_usd,
    agent.input_tokens,
    agent.output_tokens,
    agent.name,
  ].join("|");
}

function nextPollMs(): number {
  const info = commitInfo.peek();
  const shadowsBusy = info?.shadow_pending === true ||
    shadows.peek().some((s) => s.status === "queued" || s.status === "running");
  if (shadowsBusy) return BUSY_POLL_MS;
  return parentActive ? RUNNING_POLL_MS : IDLE_POLL_MS;
}

function schedule(ms: number): void {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = null;
    void refreshExtras();
  }, ms);
}

/** Loads everything now (once more after a load already in flight). */
export function refreshExtras(): Promise<void> {
  if (!agentId) return Promise.resolve();
  if (inFlight) {
    again = true;
    return inFlight;
  }
  lastLoad = Date.now();
  const id = agentId;
  inFlight = (async () => {
    const errors: string[] = [];
    try {
      const [usage, info, list] = await batch([
        { method: "usage.get", params: { agent_id: id, period: "all" } },
        { method: "agent.commit_info", params: { id } },
        { method: "agent.list", params: { parent_id: id, limit: 50 } },
      ]);
      if (usage instanceof RpcError) errors.push(`usage: ${usage.message}`);
      else {
        const report = usage as UsageReport;
        agentUsage.value = report.agent;
        proxyScope.value = report.proxy.scope;
      }
      if (info instanceof RpcError) errors.push(`commit state: ${info.message}`);
      else commitInfo.value = info as CommitInfo;
      if (list instanceof RpcError) errors.push(`shadows: ${list.message}`);
      else {
        shadows.value = (list as AgentPage).agents;
        shadowsLoaded.value = true;
      }
    } catch (err) {
      errors.push(messageOf(err));
    } finally {
      extrasError.value = errors.length > 0 ? errors.join("; ") : null;
      inFlight = null;
      if (again) {
        again = false;
        void refreshExtras();
      } else {
        schedule(nextPollMs());
      }
    }
  })();
  return inFlight;
}

/** Starts loading the extras of agent `id`. */
export function startExtras(agent: Agent): void {
  agentId = agent.id;
  lastKey = keyOf(agent);
  parentActive = agent.status === "queued" || agent.status === "running";
  void refreshExtras();
}

/**
 * The agent changed (an event, or an action's answer): refresh soon when its status, turns,
 * tokens, cost or name moved.
 */
export function agentChanged(agent: Agent): void {
  if (agent.id !== agentId) return;
  const key = keyOf(agent);
  if (key === lastKey) return;
  lastKey = key;
  parentActive = agent.status === "queued" || agent.status === "running";
  const wait = Math.max(0, lastLoad + THROTTLE_MS - Date.now());
  if (inFlight) {
    again = true;
    return;
  }
  schedule(wait);
}
