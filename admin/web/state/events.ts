/**
 * THE event stream of a page: one `EventSource` on `{base}/events`, resumed from a known event id
 * (taken before the page's snapshot, so nothing between snapshot and stream is lost; duplicates
 * are dropped by the stores). Events are handed over in batches at most every 50 ms, inside one
 * signals `batch()`, so a busy agent re-renders a few times a second, not per line.
 * @module
 */
import { batch, signal } from "@preact/signals";
import type {
  Agent,
  AgentDeletedEventData,
  Approval,
  DeltaEventData,
  MessageEventData,
} from "@hero/sdk";
import { base } from "./base.ts";

/** A typed event of the stream (`agent_deleted`: the agent and its lines are gone). */
export type StreamEvent =
  | { id: number; event: "agent"; data: Agent }
  | { id: number; event: "message"; data: MessageEventData }
  | { id: number; event: "agent_deleted"; data: AgentDeletedEventData }
  | { id: number; event: "approval"; data: Approval };

/** Connection state, for the header indicator. */
export const connection = signal<"idle" | "connecting" | "open" | "reconnecting">("idle");

/** Options of {@linkcode openEventStream}. */
export interface StreamOptions {
  /** Only this agent's events (the agent page); otherwise the dashboard view. */
  agent?: string;
  /** Resume after this event id. */
  after: number;
  onEvents(events: StreamEvent[]): void;
  /** Live text (`delta` events: no id, not replayed); called in the same 50 ms batches. */
  onDeltas?(deltas: DeltaEventData[]): void;
  /** The stream answered with an HTTP error that retrying will not fix (e.g. 404). */
  onFatal?(status: string): void;
}

let opened = false;

type Listener = (events: StreamEvent[]) => void;
const listeners = new Set<Listener>();

/**
 * Also hands every batch of the page's stream to `listener` (e.g. the header's usage meter,
 * which refreshes when an agent's cost moves), after the page's own handler. Returns the
 * unsubscribe function.
 */
export function onStreamEvents(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Opens the page's one stream. A second call is a programming error. */
export function openEventStream(options: StreamOptions): () => void {
  if (opened) throw new Error("Cannot open a second event stream on this page");
  opened = true;
  let source: EventSource | null = null;
  let lastId = options.after;
  let queue: StreamEvent[] = [];
  /** Deltas, each with the length `queue` had when it arrived (to keep the arrival order). */
  let deltas: Array<{ at: number; delta: DeltaEventData }> = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  function flush(): void {
    timer = null;
    const events = queue;
    queue = [];
    const live = deltas;
    deltas = [];
    if (live.length > 0) {
      // In arrival order: a stored assistant line replaces the deltas before it, not after it.
      batch(() => {
        let done = 0;
        let i = 0;
        while (i < live.length) {
          const at = live[i]!.at;
          if (at > done) options.onEvents(events.slice(done, at));
          done = at;
          const run: DeltaEventData[] = [];
          while (i < live.length && live[i]!.at === at) run.push(live[i++]!.delta);
          options.onDeltas?.(run);
        }
        if (done < events.length) options.onEvents(events.slice(done));
      });
    } else if (events.length > 0) batch(() => options.onEvents(events));
    if (events.length === 0) return;
    for (const listener of listeners) {
      try {
        listener(events);
      } catch (err) {
        console.error(err);
      }
    }
  }

  function push(kind: StreamEvent["event"], e: MessageEvent<string>): void {
    const id = Number(e.lastEventId);
    if (!Number.isSafeInteger(id) || id <= lastId) return;
    let data: unknown;
    try {
      data = JSON.parse(e.data);
    } catch {
      return;
    }
    lastId = id;
    queue.push({ id, event: kind, data } as StreamEvent);
    timer ??= setTimeout(flush, 50);
  }

  function connect(): void {
    if (stopped) return;
    const query = new URLSearchParams({ last_event_id: String(lastId) });
    if (options.agent) query.set("agent", options.agent);
    connection.value = connection.peek() === "idle" ? "connecting" : "reconnecting";
    const es = new EventSource(`${base()}/events?${query}`);
    source = es;
    es.addEventListener("open", () => (connection.value = "open"));
    es.addEventListener("agent", (e) => push("agent", e as MessageEvent<string>));
    es.addEventListener("message", (e) => push("message", e as MessageEvent<string>));
    es.addEventListener("agent_deleted", (e) => push("agent_deleted", e as MessageEvent<string>));
    es.addEventListener("approval", (e) => push("approval", e as MessageEvent<string>));
    if (options.onDeltas) {
      es.addEventListener("delta", (e) => {
        try {
          deltas.push({ at: queue.length, delta: JSON.parse((e as MessageEvent<string>).data) });
        } catch {
          return;
        }
        timer ??= setTimeout(flush, 50);
      });
    }
    es.addEventListener("error", () => {
      if (es.readyState === EventSource.CLOSED) {
        // An HTTP error: EventSource gives up; check why and try again later from lastId.
        connection.value = "reconnecting";
        source = null;
        void probe();
      } else {
        connection.value = "reconnecting";
      }
    });
  }

  async function probe(): Promise<void> {
    const query = new URLSearchParams({ last_event_id: String(lastId) });
    if (options.agent) query.set("agent", options.agent);
    try {
      const r = await fetch(`${base()}/events?${query}`, { credentials: "same-origin" });
      await r.body?.cancel();
      if (r.status === 404 || r.status === 401 || r.status === 400) {
        stopped = true;
        options.onFatal?.(String(r.status));
        return;
      }
    } catch {
      // unreachable: retry below
    }
    retry = setTimeout(connect, 3000);
  }

  connect();
  return function close() {
    stopped = true;
    source?.close();
    if (timer) clearTimeout(timer);
    if (retry) clearTimeout(retry);
  };
}
