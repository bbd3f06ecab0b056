/**
 * `GET /events`: the live event stream (SSE) with durable ids, replay and back-pressure.
 *
 * - `id:` is the durable event id (events table), `event:` is `agent` (data: the full agent row),
 *   `message` (data: {@linkcode MessageEventData}) or `agent_deleted` (data:
 *   {@linkcode AgentDeletedEventData}; the agent's earlier events are gone with it, this tombstone
 *   stays, so a client resuming with `Last-Event-ID` learns of the delete too).
 * - `approval` (data: the approval row): a permission prompt was stored or answered; durable.
 * - `Last-Event-ID` (header) or `?last_event_id=` replays from the database, then goes live with
 *   0 gaps and 0 duplicates: the client subscribes first, buffers live events while it replays,
 *   and on catching up sends only buffered events newer than the last replayed id. If the buffer
 *   overflows it is dropped and the replay simply continues from the database (every published
 *   event is committed there first).
 * - `?agent=<id>` keeps one agent's events. A `: hb` comment goes out every 15 s.
 * - `delta` (data: {@linkcode DeltaEventData}): live text of a running agent, without an `id:`.
 *   Ephemeral: never stored, never replayed (a client catching up gets none), and dropped first
 *   when a client's queue holds more than {@linkcode DELTA_BACKLOG_BYTES}.
 * - Back-pressure: the stream is pulled only as fast as the socket takes data. Each client queues
 *   at most `maxBacklogBytes` of live events; beyond that the queue is discarded and the client
 *   catches up from the database at its own pace. A client that takes nothing for `maxBacklogMs`
 *   while data waits is dropped (its stream ends with an error), so a stalled reader cannot grow
 *   the daemon's memory. It can reconnect and resume from its last id.
 * @module
 */
import type { DeltaEvent, EngineEvent } from "@hero/core/events";
import type { Store, StoredEvent } from "@hero/core/store";
import type { Agent } from "@hero/core/models";
import type { AgentDeletedEventData, DeltaEventData, MessageEventData } from "@hero/core/rpc";
import type { Log } from "@hero/service/log";
import type { EventStats } from "./rpc/deps.ts";

export interface EventHubOptions {
  bus: {
    subscribe(listener: (event: EngineEvent) => void): () => void;
    subscribeDeltas?(listener: (delta: DeltaEvent) => void): () => void;
  };
  store: Pick<Store, "readEvents" | "readMessages" | "getAgent" | "getApprovalByKey">;
  log?: Log;
  /** Open streams allowed at once; more get 503. */
  maxClients?: number;
  /** Queued bytes after which a client is dropped. */
  maxBacklogBytes?: number;
  /** Age of the oldest queued event after which a client is dropped. */
  maxBacklogMs?: number;
  heartbeatMs?: number;
  /** Lines longer than this are sent with `raw: null, truncated: true`. */
  maxInlineRawBytes?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Bytes handed to the HTTP layer per read. */
const CHUNK_BYTES = 64 * 1024;
/** Replay stops filling the queue past this; it resumes when the client drained it. */
const REPLAY_FILL_BYTES = 256 * 1024;
const REPLAY_BATCH = 200;
/** A client with more queued than this gets no live text until it has drained its queue. */
export const DELTA_BACKLOG_BYTES = 64 * 1024;

function sse(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function deletedData(id: string, deletedAt: number): AgentDeletedEventData {
  return { id, deleted_at: deletedAt };
}

class DroppedError extends Error {
  override name = "DroppedError";
}

interface Queued {
  /** Event id, or null for comments. */
  id: number | null;
  text: string;
}

/**
 * One subscriber. Memory per client is bounded: live events wait in a queue of at most
 * `maxBacklogBytes`; past that the queue is discarded and the client catches up from the
 * database at the pace it reads (every published event is committed first). A client that takes
 * nothing for `maxBacklogMs` while data waits for it is dropped.
 */
class Client {
  readonly stream: ReadableStream<Uint8Array>;
  #hub: EventHub;
  #agent: string | null;
  /** Reading history from the database (initial replay or catch-up) instead of the live queue. */
  #replaying: boolean;
  /** Replay cursor: the newest event id already queued or sent. */
  #after: number;
  /** Newest event id handed to the HTTP layer. */
  #sentId: number;
  /**
   * Newest event id a replay read. Lines commit on the writer's thread and are published when
   * its reply reaches the event loop, so a replay can read a committed event before the bus
   * delivers it: a live event at or below this id was already sent from the database.
   */
  #replayedTo = 0;
  #pending: EngineEvent[] = [];
  #pendingBytes = 0;
  #overflowed = false;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #lastSendAt = Date.now();
  #waiting = false;
  #wake: (() => void) | null = null;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  #unsubscribe: () => void;
  #unsubscribeDeltas: () => void;

  constructor(hub: EventHub, agent: string | null, lastEventId: number | null) {
    this.#hub = hub;
    this.#agent = agent;
    this.#replaying = lastEventId !== null;
    this.#after = lastEventId ?? 0;
    this.#sentId = this.#after;
    // Subscribe before the first database read: nothing committed in between can be missed.
    this.#unsubscribe = hub.bus.subscribe((event) => this.#onEvent(event));
    this.#unsubscribeDeltas = hub.bus.subscribeDeltas?.((delta) => this.#onDelta(delta)) ??
      (() => {});
    this.#push(null, `retry: 2000\n: connected\n\n`);
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
  }

  /** Drops the client if it took nothing for too long while data waited; sends heartbeats. */
  tick(now: number): void {
    if (this.#closed) return;
    const hasWork = this.#queue.length > 0 || this.#replaying;
    if (hasWork && !this.#waiting && now - this.#lastSendAt > this.#hub.maxBacklogMs) {
      this.drop(`took nothing for ${this.#hub.maxBacklogMs} ms`);
      return;
    }
    if (now - this.#lastSendAt >= this.#hub.heartbeatMs && this.#queue.length === 0) {
      this.#push(null, ": hb\n\n");
    }
  }

  drop(reason: string): void {
    if (this.#closed) return;
    this.#hub.noteDropped(reason);
    this.#end(new DroppedError(`Event stream dropped: ${reason}`));
  }

  close(): void {
    this.#end(null);
  }

  #end(error: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#unsubscribeDeltas();
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      if (error) this.#controller.error(error);
      else this.#controller.close();
    } catch {
      // already closed or cancelled by the HTTP layer
    }
    this.#wake?.();
    this.#hub.remove(this);
  }

  #matches(event: EngineEvent): boolean {
    if (this.#agent === null) return true;
    return (event.kind === "agent" ? event.agent.id : event.agent_id) === this.#agent;
  }

  #onEvent(event: EngineEvent): void {
    if (this.#closed || !this.#matches(event)) return;
    if (this.#replaying) {
      if (this.#overflowed) return;
      this.#pending.push(event);
      this.#pendingBytes += event.kind === "message" ? event.bytes.byteLength + 200 : 2048;
      if (this.#pendingBytes > this.#hub.maxBacklogBytes) {
        // Everything dropped here is in the database: the replay will read it.
        this.#overflowed = true;
        this.#pending = [];
        this.#pendingBytes = 0;
      }
      return;
    }
    if (event.id <= this.#replayedTo) return;
    this.#push(event.id, this.#format(event));
    if (this.#queuedBytes > this.#hub.maxBacklogBytes) {
      // Too far behind for memory: forget the queue and catch up from the database.
      this.#queue = [];
      this.#queuedBytes = 0;
      this.#after = this.#sentId;
      this.#replaying = true;
      this.#hub.noteCatchUp();
    }
  }

  /** Live text: only to a client that is live and keeping up (it is never sent again). */
  #onDelta(delta: DeltaEvent): void {
    if (this.#closed || this.#replaying) return;
    if (this.#agent !== null && delta.agent_id !== this.#agent) return;
    if (this.#queuedBytes > DELTA_BACKLOG_BYTES) {
      this.#hub.noteDeltaDropped();
      return;
    }
    const data: DeltaEventData = delta;
    this.#push(null, `event: delta\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #push(id: number | null, text: string): void {
    this.#queue.push({ id, text });
    this.#queuedBytes += text.length;
    if (id !== null && id > this.#after && !this.#replaying) this.#after = id;
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      if (this.#queue.length > 0) {
        let text = "";
        while (this.#queue.length > 0 && text.length < CHUNK_BYTES) {
          const item = this.#queue.shift()!;
          text += item.text;
          if (item.id !== null) this.#sentId = item.id;
        }
        this.#queuedBytes -= text.length;
        this.#lastSendAt = Date.now();
        controller.enqueue(encoder.encode(text));
        return;
      }
      if (this.#replaying) {
        this.#replayStep();
        continue;
      }
      this.#waiting = true;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#waiting = false;
    }
  }

  /** Reads the next slice of history into the queue; switches to live when caught up. */
  #replayStep(): void {
    const store = this.#hub.store;
    let rows: StoredEvent[];
    try {
      rows = store.readEvents(this.#after, REPLAY_BATCH, this.#agent ?? undefined);
    } catch {
      rows = []; // the filtered agent was deleted meanwhile: nothing more to replay
    }
    for (const row of rows) {
      if (this.#queuedBytes >= REPLAY_FILL_BYTES) return;
      this.#after = row.id;
      this.#replayedTo = row.id;
      const text = this.#formatStored(row);
      if (text !== null) this.#push(row.id, text);
    }
    if (rows.length > 0) return;
    if (this.#overflowed) {
      // Live events were discarded while replaying: read them from the database too.
      this.#overflowed = false;
      return;
    }
    this.#replaying = false;
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const event of pending) {
      if (event.id > this.#after) this.#push(event.id, this.#format(event));
    }
  }

  #formatStored(row: StoredEvent): string | null {
    const store = this.#hub.store;
    if (row.kind === "agent_deleted") {
      return sse(row.id, "agent_deleted", deletedData(row.agent_id, row.ts));
    }
    if (row.kind === "agent") {
      const agent = store.getAgent(row.agent_id);
      return agent ? sse(row.id, "agent", agent) : null;
    }
    if (row.kind === "approval") {
      // The row as it is now: a replayed "created" event already shows the answer, if any.
      const approval = row.seq === null ? undefined : store.getApprovalByKey(row.seq);
      return approval ? sse(row.id, "approval", approval) : null;
    }
    if (row.seq === null) return null;
    let message;
    try {
      message = store.readMessages(row.agent_id, row.seq - 1, 1)[0];
    } catch {
      return null; // deleted meanwhile
    }
    if (!message || message.seq !== row.seq) return null;
    const inline = message.byte_length <= this.#hub.maxInlineRawBytes;
    const data: MessageEventData = {
      agent_id: message.agent_id,
      seq: message.seq,
      ts: message.ts,
      type: message.type,
      subtype: message.subtype,
      parse_error: message.parse_error,
      byte_length: message.byte_length,
      raw: inline ? message.raw : null,
      truncated: !inline,
    };
    return sse(row.id, "message", data);
  }

  #format(event: EngineEvent): string {
    return this.#hub.format(event);
  }
}

function jsonError(status: number, message: string): Response {
  return new Response(JSON.stringify({ error: { status, message } }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** Parses a Last-Event-ID value: a non-negative safe integer, else undefined. */
export function parseLastEventId(value: string): number | undefined {
  if (!/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** All open event streams. */
export class EventHub implements EventStats {
  readonly bus: EventHubOptions["bus"];
  readonly store: EventHubOptions["store"];
  readonly maxClients: number;
  readonly maxBacklogBytes: number;
  readonly maxBacklogMs: number;
  readonly heartbeatMs: number;
  readonly maxInlineRawBytes: number;
  #log: Log;
  #clients = new Set<Client>();
  #dropped = 0;
  #catchUps = 0;
  #deltasDropped = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #lastEvent: EngineEvent | null = null;
  #lastText = "";

  constructor(options: EventHubOptions) {
    this.bus = options.bus;
    this.store = options.store;
    this.maxClients = options.maxClients ?? 100;
    this.maxBacklogBytes = options.maxBacklogBytes ?? 1024 * 1024;
    this.maxBacklogMs = options.maxBacklogMs ?? 5_000;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxInlineRawBytes = options.maxInlineRawBytes ?? 256 * 1024;
    this.#log = options.log ?? (() => {});
  }

  get clients(): number {
    return this.#clients.size;
  }

  get droppedTotal(): number {
    return this.#dropped;
  }

  /** How often a client fell too far behind and switched to catching up from the database. */
  get catchUpsTotal(): number {
    return this.#catchUps;
  }

  /**
   * The SSE text of a live event. The bus hands the same event object to every client in turn,
   * so the last result is kept: a line is decoded and serialised once, not once per subscriber.
   */
  format(event: EngineEvent): string {
    if (event === this.#lastEvent) return this.#lastText;
    this.#lastEvent = event;
    this.#lastText = this.#formatUncached(event);
    return this.#lastText;
  }

  #formatUncached(event: EngineEvent): string {
    if (event.kind === "agent") return sse(event.id, "agent", event.agent satisfies Agent);
    if (event.kind === "agent_deleted") {
      return sse(event.id, "agent_deleted", deletedData(event.agent_id, event.ts));
    }
    if (event.kind === "approval") return sse(event.id, "approval", event.approval);
    const inline = event.bytes.byteLength <= this.maxInlineRawBytes;
    const data: MessageEventData = {
      agent_id: event.agent_id,
      seq: event.seq,
      ts: event.ts,
      type: event.type,
      subtype: event.subtype,
      parse_error: event.parse_error,
      byte_length: event.bytes.byteLength,
      raw: inline ? decoder.decode(event.bytes) : null,
      truncated: !inline,
    };
    return sse(event.id, "message", data);
  }

  /** `GET /events`. */
  handle(req: Request): Response {
    if (this.#closed) return jsonError(503, "Cannot stream events: the daemon is shutting down");
    const url = new URL(req.url);
    const rawLast = req.headers.get("last-event-id") ?? url.searchParams.get("last_event_id");
    let lastEventId: number | null = null;
    if (rawLast !== null && rawLast !== "") {
      const parsed = parseLastEventId(rawLast.trim());
      if (parsed === undefined) {
        return jsonError(400, "Cannot stream events: Last-Event-ID must be an integer >= 0");
      }
      lastEventId = parsed;
    }
    const agent = url.searchParams.get("agent");
    if (
      agent !== null && (agent.length === 0 || agent.length > 64 || !this.store.getAgent(agent))
    ) {
      return jsonError(404, "Cannot stream events: no such agent");
    }
    if (this.#clients.size >= this.maxClients) {
      return jsonError(503, `Cannot stream events: ${this.maxClients} streams are open`);
    }
    const client = new Client(this, agent, lastEventId);
    this.#clients.add(client);
    this.#timer ??= setInterval(() => this.#tick(), 1000);
    return new Response(client.stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  }

  /** @internal */
  remove(client: Client): void {
    this.#clients.delete(client);
    if (this.#clients.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** @internal */
  noteDropped(reason: string): void {
    this.#dropped++;
    this.#log("warn", "event stream client dropped", { reason });
  }

  /** Live text deltas left out for clients that were behind. */
  get deltasDroppedTotal(): number {
    return this.#deltasDropped;
  }

  /** @internal */
  noteDeltaDropped(): void {
    this.#deltasDropped++;
  }

  /** @internal */
  noteCatchUp(): void {
    this.#catchUps++;
  }

  /** Ends every stream and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const client of [...this.#clients]) client.close();
  }

  #tick(): void {
    const now = Date.now();
    for (const client of [...this.#clients]) client.tick(now);
  }
}
