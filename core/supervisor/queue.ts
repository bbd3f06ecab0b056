/**
 * The FIFO of queued agents: standard agents and shadows wait in lanes of their own, each with its
 * own cap. The queue holds ids only; what a queued agent starts with (prompt, session to resume,
 * permission mode) is read from its row when it starts ({@linkcode turnOf}), so the row is the one
 * truth and the queue is rebuilt from the database at start.
 * @module
 */
import type { Agent, Priority } from "../models/mod.ts";
import type { PermissionMode } from "../claude/mod.ts";
import type { Store } from "../store/mod.ts";
import type { Turn } from "./types.ts";
import { endIdleSessionsFor, type LiveSession } from "./session.ts";

/** Running (or free) slot counts per lane. */
export interface Slots {
  standard: number;
  shadow: number;
}

/** A queued agent, as the queue knows it. */
export interface QueueEntry {
  id: string;
  /** A spoken turn: kept in memory only (not across a daemon restart). */
  voice: boolean;
  /** 0 high, 1 normal, 2 low: a lane is ordered by it, FIFO within one. */
  rank: number;
}

const RANK: Readonly<Record<Priority, number>> = { high: 0, normal: 1, low: 2 };

/**
 * Two FIFO lanes of agent ids.
 *
 * @example
 * ```ts
 * const queue = new AgentQueue();
 * queue.push({ id: "a", kind: "standard" });
 * queue.dispatch({ standard: 0, shadow: 0 }, { standard: 4, shadow: 2 }, (entry) => true);
 * ```
 */
export class AgentQueue {
  #standard: QueueEntry[] = [];
  #shadow: QueueEntry[] = [];
  /** Every queued id (both lanes), for O(1) membership. */
  #ids = new Set<string>();

  /** How many agents wait, both lanes together. */
  get size(): number {
    return this.#standard.length + this.#shadow.length;
  }

  /** How many agents wait in the standard lane. */
  get standardSize(): number {
    return this.#standard.length;
  }

  /**
   * Adds `agent` to its lane (shadows to the shadow lane) after every agent of its priority or a
   * higher one; an id already queued stays put.
   */
  push(
    agent: Pick<Agent, "id" | "kind"> & { priority?: Priority },
    options: { voice?: boolean } = {},
  ): void {
    if (this.#ids.has(agent.id)) return;
    this.#ids.add(agent.id);
    const lane = agent.kind === "shadow" ? this.#shadow : this.#standard;
    const rank = RANK[agent.priority ?? "normal"];
    const before = lane.findIndex((e) => e.rank > rank);
    const entry = { id: agent.id, voice: options.voice === true, rank };
    if (before < 0) lane.push(entry);
    else lane.splice(before, 0, entry);
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Removes `id` from whichever lane holds it. */
  remove(id: string): void {
    if (!this.#ids.delete(id)) return;
    this.#standard = this.#standard.filter((e) => e.id !== id);
    this.#shadow = this.#shadow.filter((e) => e.id !== id);
  }

  /**
   * Queues every agent the database has as `queued`, oldest first (crash recovery: the order of
   * the previous daemon). Returns them.
   */
  rebuild(store: Pick<Store, "listAgentsByStatus">): Agent[] {
    const queued = store.listAgentsByStatus(["queued"]);
    for (const agent of queued) this.push(agent);
    return queued;
  }

  /**
   * Hands queued agents to `start`, in FIFO order per lane, while the lane has a free slot
   * (`running` below `caps`). `start` returns whether it started the agent: one it skipped (no
   * longer queued) costs no slot.
   */
  dispatch(running: Slots, caps: Slots, start: (entry: QueueEntry) => boolean): void {
    const ids = this.#ids;
    take(this.#standard, () => running.standard < caps.standard, () => running.standard++);
    take(this.#shadow, () => running.shadow < caps.shadow, () => running.shadow++);
    function take(lane: QueueEntry[], free: () => boolean, started: () => void): void {
      while (lane.length > 0 && free()) {
        const entry = lane.shift()!;
        ids.delete(entry.id);
        if (start(entry)) started();
      }
    }
  }
}

/**
 * What a queued agent starts with, read from its row: a follow-up's stored prompt and permission
 * mode (resuming its session), else the agent's own prompt in a new session.
 */
export function turnOf(
  store: Pick<Store, "getProcessRecord">,
  agent: Agent,
  options: { voice?: boolean } = {},
): Turn {
  const voice = options.voice === true;
  const record = store.getProcessRecord(agent.id);
  if (record?.fork_session_id != null) {
    return {
      prompt: agent.prompt,
      resume: record.fork_session_id,
      fork: true,
      forkAt: record.fork_at,
      permissionMode: agent.kind === "planner" ? "plan" : agent.permission_mode,
      voice,
    };
  }
  if (record?.pending_prompt != null) {
    return {
      prompt: record.pending_prompt,
      resume: agent.session_id,
      permissionMode: (record.pending_permission_mode as PermissionMode | null) ??
        agent.permission_mode,
      voice,
    };
  }
  return {
    prompt: agent.prompt,
    resume: null,
    permissionMode: agent.kind === "planner"
      ? "plan"
      : agent.kind === "shadow"
      ? "default"
      : agent.permission_mode,
    voice,
  };
}

/**
 * Starts queued agents within `caps` (`run` lanes counted from `runs`). An idle live session holds
 * its slot until the queue needs it: then the longest-idle ones are ended first. A process whose
 * session has ended (handed over, idle too long, or past its last result) does no more work, it
 * only exits: its slot goes to the queue at once instead of after the exit and the sweep of its
 * tree, so the cap bounds working processes and an agent queued at the cap starts without waiting
 * for another one's housekeeping.
 */
export function dispatchWithin(
  queue: AgentQueue,
  runs: Iterable<{ session: LiveSession; shadow: boolean }>,
  caps: { standard: number; shadow: number },
  start: (entry: QueueEntry) => boolean,
): void {
  const all = [...runs];
  const shadows = all.filter((run) => run.shadow).length;
  endIdleSessionsFor(all, queue.standardSize, caps.standard - (all.length - shadows));
  const busy = { standard: 0, shadow: 0 };
  for (const run of all) {
    if (run.session.exitDueSince === null) busy[run.shadow ? "shadow" : "standard"]++;
  }
  queue.dispatch(busy, caps, start);
}
