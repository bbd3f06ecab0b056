/**
 * `GET /events`: relays the server's event stream (SSE) to one browser page.
 *
 * - `?agent=<id>`: that agent's `agent`, `message` and `agent_deleted` events, as the server
 *   sends them.
 * - Live text (`delta`, no id) goes to both views while the page keeps up; never waited for.
 * - `approval` events (permission prompts and their answers) go to both views.
 * - no agent: the dashboard view, `agent` and `agent_deleted` events plus the `message` events of
 *   assistant lines (what a card needs for its last line); lines above 64 KiB are sent without
 *   `raw`.
 * - `Last-Event-ID` (the header EventSource sends when it reconnects) or `?last_event_id=`
 *   resumes from the server's database: ids are the server's durable event ids, unchanged.
 * - Bounded memory per page: the relay reads the next upstream event only when the page has
 *   taken the previous ones (at most `highWaterBytes` queued); a page that takes nothing for
 *   `stallMs` while data waits is dropped and reconnects from its last id. A `: hb` comment goes
 *   out when nothing was sent for `heartbeatMs`. At most `maxClients` streams are open.
 * @module
 */
import { parseSse, type SseMessage } from "@hero/sdk/events";
import { errorText, type Upstream } from "./upstream.ts";
import type { Log } from "@hero/service/log";

/** Options of {@linkcode EventRelay}. */
export interface EventRelayOptions {
  upstream: Upstream;
  log: Log;
  maxClients?: number;
  heartbeatMs?: number;
  stallMs?: number;
  highWaterBytes?: number;
  /** In the dashboard view, assistant lines longer than this are sent with `raw: null`. */
  maxSummaryRawBytes?: number;
}

const AGENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const EVENT_ID = /^\d{1,16}$/;
const encoder = new TextEncoder();

function jsonError(status: number, message: string): Response {
  return new Response(JSON.stringify({ error: { status, message } }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** Formats one SSE message; multi-line data becomes several `data:` lines. */
export function formatSse(id: string | null, event: string, data: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join("");
  return `${id !== null ? `id: ${id}\n` : ""}event: ${event}\n${lines}\n`;
}

/**
 * The dashboard filter: keeps `agent` and `agent_deleted` events and assistant `message` events;
 * returns the data to send or null to skip.
 */
export function summarize(message: SseMessage, maxRawBytes: number): string | null {
  if (
    message.event === "agent" || message.event === "agent_deleted" || message.event === "approval"
  ) return message.data;
  if (message.event !== "message") return null;
  let data: { type?: unknown; raw?: unknown; truncated?: unknown };
  try {
    data = JSON.parse(message.data);
  } catch {
    return null;
  }
  if (data.type !== "assistant") return null;
  if (typeof data.raw === "string" && data.raw.length > maxRawBytes) {
    return JSON.stringify({ ...data, raw: null, truncated: true });
  }
  return message.data;
}

interface Pump {
  close(): void;
}

/** All relayed streams of the admin. */
export class EventRelay {
  readonly maxClients: number;
  readonly heartbeatMs: number;
  readonly stallMs: number;
  readonly highWaterBytes: number;
  readonly maxSummaryRawBytes: number;
  #upstream: Upstream;
  #log: Log;
  #pumps = new Set<Pump>();
  #closed = false;

  constructor(options: EventRelayOptions) {
    this.#upstream = options.upstream;
    this.#log = options.log;
    this.maxClients = options.maxClients ?? 64;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.stallMs = options.stallMs ?? 10_000;
    this.highWaterBytes = options.highWaterBytes ?? 64 * 1024;
    this.maxSummaryRawBytes = options.maxSummaryRawBytes ?? 64 * 1024;
  }

  /** Open streams. */
  get clients(): number {
    return this.#pumps.size;
  }

  /** The `GET /events` handler. */
  async handle(req: Request): Promise<Response> {
    if (this.#closed) return jsonError(503, "Cannot stream events: the admin is shutting down");
    const url = new URL(req.url);
    const agent = url.searchParams.get("agent");
    if (agent !== null && !AGENT_ID.test(agent)) {
      return jsonError(400, "Cannot stream events: agent is not a valid id");
    }
    const header = req.headers.get("last-event-id");
    const raw = header !== null && header.trim() !== ""
      ? header.trim()
      : url.searchParams.get("last_event_id");
    if (raw !== null && raw !== "" && !EVENT_ID.test(raw)) {
      return jsonError(400, "Cannot stream events: Last-Event-ID must be an integer >= 0");
    }
    if (this.#pumps.size >= this.maxClients) {
      return jsonError(503, `Cannot stream events: ${this.maxClients} streams are open`);
    }
    const abort = new AbortController();
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (raw) headers["last-event-id"] = raw;
    let answer: Response;
    try {
      answer = await this.#upstream.fetch(
        `/events${agent ? `?agent=${encodeURIComponent(agent)}` : ""}`,
        { headers, signal: abort.signal },
      );
    } catch (err) {
      this.#log("warn", "cannot reach the server's event stream", { error: errorText(err) });
      return jsonError(502, "Cannot stream events: hero_orchestrator_server is not reachable");
    }
    if (!answer.ok || !answer.body) {
      const text = await answer.text().catch(() => "");
      return new Response(text, {
        status: answer.status === 200 ? 502 : answer.status,
        headers: {
          "content-type": answer.headers.get("content-type") ?? "text/plain",
          "cache-control": "no-store",
        },
      });
    }
    const stream = this.#pump(answer.body, abort, agent === null);
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every stream and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const pump of [...this.#pumps]) pump.close();
  }

  #pump(
    body: ReadableStream<Uint8Array>,
    abort: AbortController,
    summary: boolean,
  ): ReadableStream<Uint8Array> {
    const pumps = this.#pumps;
    const pump: Pump = { close: () => {} };
    const stream = relayStream(body, {
      abort,
      summary,
      log: this.#log,
      heartbeatMs: this.heartbeatMs,
      stallMs: this.stallMs,
      highWaterBytes: this.highWaterBytes,
      maxSummaryRawBytes: this.maxSummaryRawBytes,
      onEnd: () => pumps.delete(pump),
      expose: (close) => (pump.close = close),
    });
    pumps.add(pump);
    return stream;
  }
}

interface RelayStreamOptions {
  abort: AbortController;
  summary: boolean;
  log: Log;
  heartbeatMs: number;
  stallMs: number;
  highWaterBytes: number;
  maxSummaryRawBytes: number;
  onEnd(): void;
  /** Receives the function that ends the stream from outside (shutdown). */
  expose(close: () => void): void;
}

/** The browser side of one relayed stream, pulled at the page's pace. */
function relayStream(
  body: ReadableStream<Uint8Array>,
  options: RelayStreamOptions,
): ReadableStream<Uint8Array> {
  const { abort, log } = options;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let demand: (() => void) | null = null;
  let lastSend = Date.now();
  let done = false;
  const heartbeat = setInterval(() => {
    if (Date.now() - lastSend >= options.heartbeatMs && (controller.desiredSize ?? 0) > 0) {
      send(": hb\n\n");
    }
  }, Math.min(options.heartbeatMs, 5_000));

  function send(text: string): void {
    controller.enqueue(encoder.encode(text));
    lastSend = Date.now();
  }

  function finish(error: Error | null): void {
    if (done) return;
    done = true;
    clearInterval(heartbeat);
    options.onEnd();
    abort.abort();
    try {
      if (error) controller.error(error);
      else controller.close();
    } catch {
      // already cancelled by the HTTP layer
    }
    demand?.();
  }

  /** Resolves true once the page has room, false when it took nothing for `stallMs`. */
  function room(): Promise<boolean> {
    if ((controller.desiredSize ?? 0) > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        demand = null;
        resolve(false);
      }, options.stallMs);
      demand = () => {
        clearTimeout(timer);
        demand = null;
        resolve(true);
      };
    });
  }

  async function run(): Promise<void> {
    try {
      for await (const message of parseSse(body)) {
        if (done) return;
        if (message.event === "delta") {
          // Live text: sent only when the page has room now, never waited for (nor replayed).
          if ((controller.desiredSize ?? 0) > 0) {
            send(formatSse(null, "delta", message.data));
          }
          continue;
        }
        const data = options.summary
          ? summarize(message, options.maxSummaryRawBytes)
          : message.event === "agent" || message.event === "message" ||
              message.event === "agent_deleted" || message.event === "approval"
          ? message.data
          : null;
        if (data === null) continue;
        if (!(await room())) {
          if (!done) log("warn", "event relay dropped a stalled page");
          finish(new Error("Event stream dropped: the page took nothing for too long"));
          return;
        }
        if (done) return;
        send(formatSse(message.id, message.event, data));
      }
      finish(null);
    } catch (err) {
      if (!done) log("info", "upstream event stream ended", { error: errorText(err) });
      finish(null);
    }
  }

  options.expose(() => finish(null));
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      send("retry: 2000\n: connected\n\n");
      void run();
    },
    pull() {
      demand?.();
    },
    cancel() {
      finish(null);
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: options.highWaterBytes }));
}
