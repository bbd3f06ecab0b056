/**
 * The event stream (`GET /events`, SSE) for browsers and Deno: a spec-conforming SSE parser over a
 * fetch `Response` body and a typed, resuming subscription that reconnects with the last event id.
 * @module
 */
import type { FetchLike, TransportOptions } from "./client.ts";
import type {
  Agent,
  AgentDeletedEventData,
  Approval,
  DeltaEventData,
  MessageEventData,
} from "./gen/types.gen.ts";

/** One raw SSE message. */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/**
 * A typed event of the service. `id` is the durable event id. `agent_deleted` is the tombstone of a
 * deleted agent (its earlier events are gone; replay delivers the tombstone).
 */
export type ServiceEvent =
  | { id: number; event: "agent"; data: Agent }
  | { id: number; event: "message"; data: MessageEventData }
  | { id: number; event: "agent_deleted"; data: AgentDeletedEventData }
  | { id: number; event: "approval"; data: Approval };

/**
 * Parses an SSE byte stream (WHATWG rules: `\n`, `\r\n` or `\r` line ends, `:` comments, multi-line
 * `data`, `id` without NUL, `retry` ignored). Yields each dispatched message.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | null = null;
  let sawCr = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== "\n" && c !== "\r") continue;
        if (c === "\n" && sawCr && i === start) {
          // the \n of a \r\n split across lines
          sawCr = false;
          start = i + 1;
          continue;
        }
        sawCr = c === "\r";
        const line = buffer.slice(start, i);
        start = i + 1;
        if (line === "") {
          if (data.length > 0) yield { id, event: event || "message", data: data.join("\n") };
          data = [];
          event = "";
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
        else if (field === "id" && !value.includes("\0")) id = value;
      }
      buffer = buffer.slice(start);
      if (buffer.length > 0) sawCr = false;
    }
  } finally {
    reader.releaseLock();
    body.cancel().catch(() => {});
  }
}

/** Options of {@linkcode subscribeEvents}. */
export interface SubscribeOptions extends TransportOptions {
  /** Resume after this event id (replayed from the service's database). */
  lastEventId?: number | null;
  /** Only this agent's events. */
  agent?: string;
  /** Stops the subscription. */
  signal?: AbortSignal;
  /** Reconnect (resuming from the last id) when the stream ends; default true. */
  reconnect?: boolean;
  /** Delay before reconnecting, ms; default 1000. */
  retryMs?: number;
  /**
   * Live text of running agents (`delta` events: no id, never replayed, dropped first when the
   * reader is slow). Called as they arrive; the iteration itself yields only durable events.
   */
  onDelta?: (delta: DeltaEventData) => void;
}

/** A typed, resumable event subscription. */
export interface EventSubscription extends AsyncIterable<ServiceEvent> {
  /** Id of the last event received (resume point), or null. */
  readonly lastEventId: number | null;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Subscribes to `GET {baseUrl}/events`. Iterate it; it reconnects with `Last-Event-ID` when the
 * service drops the stream (e.g. after a restart or for falling behind), until `signal` aborts.
 * A 4xx answer ends the iteration with an error.
 */
export function subscribeEvents(options: SubscribeOptions = {}): EventSubscription {
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const base = (options.baseUrl ?? "http://localhost").replace(/\/+$/, "");
  const reconnect = options.reconnect ?? true;
  let lastEventId = options.lastEventId ?? null;
  async function* iterate(): AsyncGenerator<ServiceEvent> {
    while (!options.signal?.aborted) {
      const query = options.agent ? `?agent=${encodeURIComponent(options.agent)}` : "";
      const headers: Record<string, string> = { accept: "text/event-stream", ...options.headers };
      if (lastEventId !== null) headers["last-event-id"] = String(lastEventId);
      let response: Response | null = null;
      try {
        response = await fetchFn(`${base}/events${query}`, {
          headers,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (err) {
        if (options.signal?.aborted || !reconnect) {
          if (options.signal?.aborted) return;
          throw err;
        }
      }
      if (response) {
        if (response.status >= 400 && response.status < 500) {
          const text = await response.text();
          throw new Error(`Cannot subscribe to events: HTTP ${response.status} ${text}`);
        }
        if (response.ok && response.body) {
          try {
            for await (const message of parseSse(response.body)) {
              if (message.event === "delta") {
                options.onDelta?.(JSON.parse(message.data));
                continue;
              }
              const known = message.event === "agent" || message.event === "message" ||
                message.event === "agent_deleted" || message.event === "approval";
              if (!known) continue;
              const id = Number(message.id);
              if (!Number.isSafeInteger(id)) continue;
              lastEventId = id;
              yield { id, event: message.event, data: JSON.parse(message.data) } as ServiceEvent;
            }
          } catch (err) {
            if (options.signal?.aborted) return;
            if (!reconnect) throw err;
          }
        } else {
          await response.body?.cancel();
        }
      }
      if (!reconnect) return;
      await sleep(options.retryMs ?? 1000, options.signal);
    }
  }
  return {
    get lastEventId() {
      return lastEventId;
    },
    [Symbol.asyncIterator]: iterate,
  };
}
