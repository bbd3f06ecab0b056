/**
 * Agents known to the page, as module-level signals shared by the islands: one signal per agent
 * (a card re-renders only when its agent changes) plus a `membership` version that changes when
 * agents appear, disappear or change status, which is all the buckets depend on.
 * @module
 */
import { computed, type ReadonlySignal, type Signal, signal } from "@preact/signals";
import type { Agent } from "@hero/sdk";
import { bucketOf } from "../lib/format.ts";
import { previewLine } from "../lib/sanitize.ts";
import { call, messageOf } from "./rpc.ts";

const agentSignals = new Map<string, Signal<Agent>>();
const lastLines = new Map<string, Signal<string>>();

/** Bumped when the set of agents or any agent's status changes. */
export const membership = signal(0);

/** Adds or updates an agent; an update older than what is known is ignored. */
export function upsertAgent(agent: Agent): void {
  const known = agentSignals.get(agent.id);
  if (!known) {
    agentSignals.set(agent.id, signal(agent));
    membership.value++;
    return;
  }
  const current = known.peek();
  if (agent.updated_at < current.updated_at) return;
  known.value = agent;
  if (current.status !== agent.status) {
    membership.value++;
    for (const listener of statusListeners) {
      try {
        listener(agent, current.status);
      } catch (err) {
        console.error(err);
      }
    }
  }
}

type StatusListener = (agent: Agent, previous: Agent["status"]) => void;
const statusListeners = new Set<StatusListener>();

/**
 * Calls `listener` whenever a known agent changes status (not for agents first seen: a page's
 * first read is not news). Returns the unsubscribe function.
 */
export function onStatusChange(listener: StatusListener): () => void {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

/** Forgets an agent (deleted). */
export function removeAgent(id: string): void {
  if (agentSignals.delete(id)) membership.value++;
  lastLines.delete(id);
}

/** The signal of one agent. */
export function agentSignal(id: string): Signal<Agent> | undefined {
  return agentSignals.get(id);
}

/** The last assistant line of an agent (cleaned, one line). */
export function lastLineSignal(id: string): Signal<string> {
  let s = lastLines.get(id);
  if (!s) {
    s = signal("");
    lastLines.set(id, s);
  }
  return s;
}

/** Records the newest assistant text of an agent. */
export function setLastText(id: string, text: string): void {
  const line = previewLine(text, 240);
  if (line) lastLineSignal(id).value = line;
}

/** Every agent, newest first (ids are time-ordered UUIDv7). */
export const allAgents: ReadonlySignal<Agent[]> = computed(() => {
  void membership.value;
  return [...agentSignals.values()].map((s) => s.peek()).sort((a, b) =>
    a.id < b.id ? 1 : a.id > b.id ? -1 : 0
  );
});

/** The working-directory filter of the dashboard (`?cwd=`), or null for all. */
export const cwdFilter = signal<string | null>(null);

/** The server's working directories (`agent.cwds`), most recently used first; null until read. */
export const serverCwds = signal<readonly string[] | null>(null);

let cwdsRead: Promise<void> | null = null;
let cwdsAgain = false;
let cwdsTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Reads the working directories from the server (every agent's, not only the loaded pages').
 * Calls while a read is under way share it and read once more after it, so the last answer is
 * never older than the last call. A failed read keeps the previous list.
 */
export function loadKnownCwds(): Promise<void> {
  if (cwdsRead) {
    cwdsAgain = true;
    return cwdsRead;
  }
  cwdsRead = (async () => {
    try {
      do {
        cwdsAgain = false;
        try {
          const { cwds } = await call("agent.cwds", {});
          serverCwds.value = cwds.map((c) => c.cwd);
        } catch (err) {
          console.warn(`Cannot read the working directories: ${messageOf(err)}`);
        }
      } while (cwdsAgain);
    } finally {
      cwdsRead = null;
    }
  })();
  return cwdsRead;
}

/** Reads the working directories once (the first island that needs them). */
export function ensureKnownCwds(): Promise<void> {
  if (cwdsRead) return cwdsRead;
  return serverCwds.peek() === null ? loadKnownCwds() : Promise.resolve();
}

/** Reads the working directories again soon (an agent was created or deleted); coalesced. */
export function refreshKnownCwds(delayMs = 250): void {
  cwdsTimer ??= setTimeout(() => {
    cwdsTimer = null;
    void loadKnownCwds();
  }, delayMs);
}

/**
 * Working directories for the filter and the form's suggestions: the server's list (most
 * recently used first), after the cwds of loaded agents it does not have yet (just created),
 * most used first. Shadow agents are left out, as on the server.
 */
export const knownCwds: ReadonlySignal<string[]> = computed(() => {
  const counts = new Map<string, number>();
  for (const a of allAgents.value) {
    if (a.kind !== "shadow") counts.set(a.cwd, (counts.get(a.cwd) ?? 0) + 1);
  }
  const server = serverCwds.value ?? [];
  const onServer = new Set(server);
  const local = [...counts.entries()].filter(([cwd]) => !onServer.has(cwd))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([cwd]) => cwd);
  return [...local, ...server];
});

/**
 * Agent ids per bucket, after the cwd filter. Failed and paused agents have their own bucket (the server
 * lists them under "completed"), so a failure is not filed among the successes. Shadow agents
 * (naming, commit) are left out: they are listed on their parent's page. (The stream carries
 * their events too.)
 */
export const buckets: ReadonlySignal<
  Record<"running" | "paused" | "awaiting_review" | "failed" | "completed", string[]>
> = computed(() => {
  const cwd = cwdFilter.value;
  const out = {
    running: [] as string[],
    paused: [] as string[],
    awaiting_review: [] as string[],
    failed: [] as string[],
    completed: [] as string[],
  };
  for (const a of allAgents.value) {
    if (a.kind === "shadow") continue;
    if (cwd !== null && a.cwd !== cwd) continue;
    // Paused agents have their own place too (the server lists them with the running ones).
    out[a.status === "failed" || a.status === "paused" ? a.status : bucketOf(a.status)].push(a.id);
  }
  return out;
});
