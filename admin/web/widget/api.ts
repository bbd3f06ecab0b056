/**
 * The widget's only way out: the admin's same-origin `POST {base}/rpc` pass-through (through the
 * SDK's client) and its `GET {base}/events` relay (one agent's events, approvals and live text).
 * @module
 */
import {
  type Agent,
  type Approval,
  type BatchCall,
  type DeltaEventData,
  type MessageEventData,
  type MethodName,
  RpcClient,
  RpcError,
  type RpcMethods,
} from "@hero/sdk";

export { type BatchCall, RpcError };

/** What {@linkcode WidgetApi.stream} reports. */
export interface StreamHandlers {
  onAgent(agent: Agent, eventId: number): void;
  onMessage(message: MessageEventData, eventId: number): void;
  /** A permission prompt of the agent was created or answered (stored, replayed). */
  onApproval?(approval: Approval, eventId: number): void;
  /** Live text being written (no id: not stored, not replayed, may be dropped). */
  onDelta?(delta: DeltaEventData): void;
}

/** JSON-RPC and events under one base path. */
export class WidgetApi {
  #base: string;
  #rpc: RpcClient;

  constructor(base: string) {
    this.#base = base;
    this.#rpc = new RpcClient({
      baseUrl: base,
      fetch: function sameOrigin(input, init) {
        return fetch(input, { ...init, credentials: "same-origin" });
      },
    });
  }

  /** Calls one method; rejects with an {@linkcode RpcError}. */
  call<M extends MethodName>(
    method: M,
    params: RpcMethods[M]["params"],
  ): Promise<RpcMethods[M]["result"]> {
    return this.#rpc.call(method, params);
  }

  /** Sends calls as one batch; each slot holds the result or an {@linkcode RpcError}. */
  batch(calls: BatchCall[]): Promise<unknown[]> {
    return this.#rpc.batch(calls);
  }

  /**
   * Follows one agent's events after event `afterId` (the server replays what was stored after
   * it, then goes live). Reconnects on its own, resuming from the last event seen. Returns a
   * function that closes the stream.
   */
  stream(agentId: string, afterId: number, handlers: StreamHandlers): () => void {
    let lastId = afterId;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let closed = false;
    const handle = (kind: "agent" | "message" | "approval") => (e: Event) => {
      const event = e as MessageEvent<string>;
      const id = Number(event.lastEventId);
      if (!Number.isSafeInteger(id) || id <= lastId) return;
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      lastId = id;
      if (kind === "agent") handlers.onAgent(data as Agent, id);
      else if (kind === "approval") handlers.onApproval?.(data as Approval, id);
      else handlers.onMessage(data as MessageEventData, id);
    };
    const delta = (e: Event) => {
      try {
        handlers.onDelta?.(JSON.parse((e as MessageEvent<string>).data) as DeltaEventData);
      } catch {
        // a torn or foreign delta is only lost live text: the stored line follows
      }
    };
    const connect = () => {
      if (closed) return;
      const query = new URLSearchParams({ agent: agentId, last_event_id: String(lastId) });
      const es = new EventSource(`${this.#base}/events?${query}`);
      source = es;
      es.addEventListener("agent", handle("agent"));
      es.addEventListener("message", handle("message"));
      es.addEventListener("approval", handle("approval"));
      es.addEventListener("delta", delta);
      es.addEventListener("error", () => {
        // CLOSED: an HTTP error the browser will not retry; try again later from lastId.
        if (es.readyState !== EventSource.CLOSED || closed) return;
        source = null;
        retry = setTimeout(connect, 2_000);
      });
    };
    connect();
    return () => {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      source?.close();
      source = null;
    };
  }
}
