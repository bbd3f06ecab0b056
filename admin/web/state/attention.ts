/**
 * "Needs you": the agents waiting on a person (in review, failed, paused at a budget: only a
 * person raises it, or asking permission for a tool), shown as a count in the tab title, and
 * (after a person opted in) a browser notification each time one starts waiting, linking to it.
 * Never asks for permission by itself: only the opt-in button does.
 * @module
 */
import { computed, effect, signal } from "@preact/signals";
import type { Agent, Approval } from "@hero/sdk";
import { allAgents, onStatusChange } from "./agents.ts";
import { agentHref } from "./base.ts";
import { formatCost } from "../lib/format.ts";
import { pendingApprovals } from "./approvals.ts";

/** Statuses in which an agent waits on a person (the server's webhook uses the same list). */
export const NEEDS_PERSON: readonly Agent["status"][] = ["awaiting_review", "failed"];

/** Paused at its budget: it continues only when a person raises the budget or resumes it. */
export function pausedAtBudget(agent: Agent): boolean {
  return agent.status === "paused" && agent.pause_reason === "budget";
}

/** Whether `agent` waits on a person (the server's webhook uses the same rule). */
export function needsPerson(agent: Agent): boolean {
  return agent.kind !== "shadow" && (NEEDS_PERSON.includes(agent.status) || pausedAtBudget(agent));
}

const PREF_KEY = "hero_admin_notify";

/** `unsupported` (no Notification API), else the browser's permission. */
export type NotifyPermission = "unsupported" | "default" | "granted" | "denied";

function readPermission(): NotifyPermission {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

function readPref(): boolean {
  try {
    return localStorage.getItem(PREF_KEY) === "on";
  } catch {
    return false;
  }
}

/** The browser's permission, refreshed when the person answers the prompt. */
export const notifyPermission = signal<NotifyPermission>("unsupported");
/** Whether this person wants notifications (stored per browser). */
export const notifyWanted = signal(false);
/** Failures seen live on this page while the person was away; cleared when they come back. */
const unseenFailures = signal<ReadonlySet<string>>(new Set());

/**
 * Agents waiting for review or paused at a budget, permission prompts waiting for an answer,
 * plus failures the person has not seen yet.
 */
export const needsYouCount = computed(() => {
  let n = unseenFailures.value.size + pendingApprovals.value.length;
  for (const a of allAgents.value) {
    if (a.kind !== "shadow" && (a.status === "awaiting_review" || pausedAtBudget(a))) n++;
  }
  return n;
});

/** Asks the browser (once per click) and remembers the answer. */
export async function enableNotifications(): Promise<void> {
  if (typeof Notification === "undefined") return;
  const answer = await Notification.requestPermission();
  notifyPermission.value = answer;
  notifyWanted.value = answer === "granted";
  try {
    localStorage.setItem(PREF_KEY, answer === "granted" ? "on" : "off");
  } catch {
    // private mode: the choice lasts for this page
  }
}

/** Turns notifications off for this browser (the permission itself stays with the browser). */
export function disableNotifications(): void {
  notifyWanted.value = false;
  try {
    localStorage.setItem(PREF_KEY, "off");
  } catch {
    // private mode
  }
}

function away(): boolean {
  return document.visibilityState !== "visible" || !document.hasFocus();
}

/** What a budget pause reached, e.g. `$0.12 of $0.10 · 3 of 3 turns`. */
function budgetLine(agent: Agent): string {
  const parts: string[] = [];
  if (agent.max_cost_usd !== null) {
    parts.push(`${formatCost(agent.total_cost_usd)} of ${formatCost(agent.max_cost_usd)}`);
  }
  if (agent.max_turns !== null) parts.push(`${agent.num_turns} of ${agent.max_turns} turns`);
  return `${parts.join(" · ") || "Budget reached"}. Raise the budget to continue.`;
}

function notify(agent: Agent): void {
  if (!notifyWanted.peek() || notifyPermission.peek() !== "granted") return;
  // The person is looking at this very agent: the page itself shows the change.
  const here = location.pathname === agentHref(agent.id);
  if (here && !away()) return;
  const name = agent.name?.trim() || agent.id;
  const failed = agent.status === "failed";
  const paused = pausedAtBudget(agent);
  const note = new Notification(
    failed
      ? `Agent "${name}" failed`
      : paused
      ? `Agent "${name}" is paused at its budget`
      : `Agent "${name}" is waiting for review`,
    {
      body: failed
        ? `${agent.error_code ?? "failed"}: ${agent.error_message ?? ""}`.slice(0, 200)
        : paused
        ? budgetLine(agent)
        : (agent.result ?? "The turn finished.").slice(0, 200),
      // One notification per agent: a newer one replaces it.
      tag: `hero-agent-${agent.id}`,
      data: { href: agentHref(agent.id) },
    },
  );
  note.onclick = () => {
    globalThis.focus();
    location.assign(agentHref(agent.id));
    note.close();
  };
}

/** A permission prompt: what the agent asks to run, linking to the agent. */
function notifyApproval(approval: Approval): void {
  if (!notifyWanted.peek() || notifyPermission.peek() !== "granted") return;
  const href = agentHref(approval.agent_id);
  if (location.pathname === href && !away()) return;
  const agent = allAgents.peek().find((a) => a.id === approval.agent_id);
  const name = agent?.name?.trim() || approval.agent_id;
  const input = approval.input as Record<string, unknown>;
  const asked = input.command ?? input.file_path ?? input.path;
  const note = new Notification(`Agent "${name}" asks to use ${approval.tool_name}`, {
    // The command or path says more than claude's description of the call.
    body: (typeof asked === "string" ? asked : approval.description ?? "").slice(0, 200),
    tag: `hero-approval-${approval.id}`,
    data: { href },
  });
  note.onclick = () => {
    globalThis.focus();
    location.assign(href);
    note.close();
  };
}

let started = false;

/** Starts following the page's agents (idempotent): title count and notifications. */
export function startAttention(): void {
  if (started) return;
  started = true;
  notifyPermission.value = readPermission();
  notifyWanted.value = readPref() && notifyPermission.peek() === "granted";
  onStatusChange((agent) => {
    if (!needsPerson(agent)) return;
    if (agent.status === "failed" && away()) {
      unseenFailures.value = new Set([...unseenFailures.peek(), agent.id]);
    }
    notify(agent);
  });
  // Prompts that were already waiting when the page opened are on the page; new ones notify.
  const since = Date.now();
  const notified = new Set<string>();
  effect(() => {
    for (const approval of pendingApprovals.value) {
      if (notified.has(approval.id) || approval.created_at < since) continue;
      notified.add(approval.id);
      notifyApproval(approval);
    }
  });
  const seen = () => {
    if (!away() && unseenFailures.peek().size > 0) unseenFailures.value = new Set();
  };
  document.addEventListener("visibilitychange", seen);
  globalThis.addEventListener("focus", seen);
  // The page's own title stays whatever the page set; only the "(n) " prefix is ours.
  effect(() => {
    const n = needsYouCount.value;
    const plain = document.title.replace(/^\(\d+\) /, "");
    document.title = n > 0 ? `(${n}) ${plain}` : plain;
  });
  new MutationObserver(() => {
    const n = needsYouCount.peek();
    if (n > 0 && !document.title.startsWith(`(${n}) `)) {
      document.title = `(${n}) ${document.title.replace(/^\(\d+\) /, "")}`;
    }
  }).observe(document.querySelector("title") ?? document.head, {
    childList: true,
    characterData: true,
    subtree: true,
  });
}
