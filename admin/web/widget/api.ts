/**
 * The widget's only way out: the admin's same-origin `POST {base}/rpc` pass-through and its
 * `GET {base}/events` relay (one agent's events). Types come from the SDK (`import type` only).
 * @module
 */
import type { Agent, MessageEventData, MethodName, RpcErrorData, RpcMethods } from "@hero/sdk";

/** An error answer, or a transport failure (code -32603, no data). */
export class WidgetCallError extends Error {
  readonly code: number;
  readonly data: RpcErrorData | undefined;

  constructor(code: number, message: string, data?: RpcErrorData) {
    super(message);
    this.name = "WidgetCallError";
    this.code = code;
    this.data = data;
  }

  /** Machine code, e.g. `not_found`. */
  get reason(): string | undefined {
    return this.data?.code;
  }
}

interface Wire {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: RpcErrorData };
}

/** One call of a batch. */
export type BatchCall = {
  [M in MethodName]: { method: M; params: RpcMethods[M]["params"] };
}[MethodName];

/** What {@linkcode WidgetApi.stream} reports. */
export interface StreamHandlers {
  onAgent(agent: Agent, eventId: number): void;
  onMessage(message: MessageEventData, eventId: number): void;
}

/** JSON-RPC and events under one base path. */
export class WidgetApi {
  #base: string;
  #nextId = 1;

  constructor(base: string) {
    this.#base = base;
  }

  async #post(body: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (err) {
      throw new WidgetCallError(
        -32603,
        `Cannot reach the orchestrator: ${err instanceof Error ? err.message : err}`,
      );
    }
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new WidgetCallError(
        -32603,
        `Cannot read the orchestrator's answer: HTTP ${response.status}`,
      );
    }
  }

  /** Calls one method. */
  async call<M extends MethodName>(
    method: M,
    params: RpcMethods[M]["params"],
  ): Promise<RpcMethods[M]["result"]> {
    const wire = await this.#post({ jsonrpc: "2.0", id: this.#nextId++, method, params }) as Wire;
    if (wire?.error) {
      throw new WidgetCallError(wire.error.code, wire.error.message, wire.error.data);
    }
    if (!wire || !("result" in wire)) {
      throw new WidgetCallError(-32603, "Cannot read the orchestrator's answer");
    }
    return wire.result as RpcMethods[M]["result"];
  }

  /** Sends calls as one batch; each slot holds the result or a {@linkcode WidgetCallError}. */
  async batch(calls: BatchCall[]): Promise<unknown[]> {
    const first = this.#nextId;
    this.#nextId += calls.length;
    const payload = await this.#post(
      calls.map((c, i) => ({ jsonrpc: "2.0", id: first + i, method: c.method, params: c.params })),
    );
    if (!Array.isArray(payload)) {
      const wire = payload as Wire;
      throw wire?.error
        ? new WidgetCallError(wire.error.code, wire.error.message, wire.error.data)
        : new WidgetCallError(-32603, "Cannot read the orchestrator's answer");
    }
    const byId = new Map<unknown, Wire>();
    for (const w of payload as Wire[]) byId.set(w?.id, w);
    return calls.map((_, i) => {
      const w = byId.get(first + i);
      if (!w) return new WidgetCallError(-32603, "Cannot read the orchestrator's answer");
      return w.error ? new WidgetCallError(w.error.code, w.error.message, w.error.data) : w.result;
    });
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
    const handle = (kind: "agent" | "message") => (e: Event) => {
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
      else handlers.onMessage(data as MessageEventData, id);
    };
    const connect = () => {
      if (closed) return;
      const query = new URLSearchParams({ agent: agentId, last_event_id: String(lastId) });
      const es = new EventSource(`${this.#base}/events?${query}`);
      source = es;
      es.addEventListener("agent", handle("agent"));
      es.addEventListener("message", handle("message"));
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
