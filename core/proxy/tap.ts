/**
 * A pass-through tap on an upstream response body: every chunk is forwarded first, unchanged and
 * at once; only then are the bytes looked at, to count token usage (`message_start` /
 * `message_delta` SSE events, or a JSON message's `usage`) and to keep the first bytes of an error
 * body for the log. Nothing is buffered beyond one bounded SSE line, and only the lines that carry
 * usage are decoded: the rest of a stream is skipped on each line's first bytes.
 * @module
 */

/** Tokens counted from a response. */
export interface WireUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
}

/** What the tap saw once the body ended (or was cancelled). */
export interface TapSummary extends WireUsage {
  /** Bytes passed through. */
  bytes: number;
  /** The first bytes of the body, when asked for (error bodies), lossy UTF-8. */
  head: string | null;
  /** True when the client went away before the end. */
  cancelled: boolean;
  /** The model the (last) message named, or null; it prices the tokens. */
  model?: string | null;
}

export interface TapOptions {
  /** `text/event-stream`: parse SSE; otherwise a JSON body (up to `maxJsonBytes`) is parsed. */
  sse: boolean;
  /** Keep this many leading bytes for {@linkcode TapSummary.head}; 0 keeps none. */
  headBytes: number;
  /** Called exactly once, when the body ended, failed or was cancelled. */
  onEnd: (summary: TapSummary) => void;
  /** A single SSE line longer than this is skipped (never buffered further). Default 1 MiB. */
  maxLineBytes?: number;
  /** A JSON body longer than this is not parsed. Default 1 MiB. */
  maxJsonBytes?: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const EVENT = new TextEncoder().encode("event:");
const DATA = new TextEncoder().encode("data:");
/** The events whose `data:` carries usage; any other name is "other". */
const USAGE_EVENTS = ["message_start", "message_delta"].map((name) => ({
  name,
  bytes: new TextEncoder().encode(name),
}));

/** `message_start`, `message_delta` or `other`, from an `event:` line's bytes. */
function eventNameOf(line: Uint8Array): string {
  let start = EVENT.length;
  let end = line.length;
  while (start < end && line[start] === SPACE) start++;
  while (end > start && (line[end - 1] === SPACE || line[end - 1] === CR)) end--;
  for (const { name, bytes } of USAGE_EVENTS) {
    if (end - start !== bytes.length) continue;
    let i = 0;
    while (i < bytes.length && line[start + i] === bytes[i]) i++;
    if (i === bytes.length) return name;
  }
  return end > start ? "other" : "";
}
const decoder = new TextDecoder();

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : null;
}

/** Counts usage over the messages of one response: start figures, overridden by later deltas. */
class UsageCounter {
  #done: WireUsage = {
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_creation_tokens: 0,
  };
  #current: WireUsage | null = null;
  model: string | null = null;

  #apply(target: WireUsage, usage: Record<string, unknown>): void {
    target.input_tokens = num(usage.input_tokens) ?? target.input_tokens;
    target.output_tokens = num(usage.output_tokens) ?? target.output_tokens;
    target.cache_read_tokens = num(usage.cache_read_input_tokens) ?? target.cache_read_tokens;
    target.cache_creation_tokens = num(usage.cache_creation_input_tokens) ??
      target.cache_creation_tokens;
  }

  #close(): void {
    if (!this.#current) return;
    this.#done.input_tokens += this.#current.input_tokens;
    this.#done.output_tokens += this.#current.output_tokens;
    this.#done.cache_read_tokens += this.#current.cache_read_tokens;
    this.#done.cache_creation_tokens += this.#current.cache_creation_tokens;
    this.#current = null;
  }

  /** One parsed SSE `data:` object. */
  event(data: Record<string, unknown>): void {
    if (data.type === "message_start") {
      this.#close();
      this.#current = {
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
      };
      const message = record(data.message);
      if (typeof message?.model === "string") this.model = message.model.slice(0, 200);
      const usage = record(message?.usage);
      if (usage) this.#apply(this.#current, usage);
    } else if (data.type === "message_delta") {
      const usage = record(data.usage);
      if (!usage) return;
      this.#current ??= {
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
      };
      // message_delta usage is cumulative for the message: it replaces, never adds.
      this.#apply(this.#current, usage);
    }
  }

  /** A complete (non-streaming) message. */
  message(body: Record<string, unknown>): void {
    const usage = record(body.usage);
    if (body.type !== "message" || !usage) return;
    if (typeof body.model === "string") this.model = body.model.slice(0, 200);
    this.#close();
    this.#current = {
      input_tokens: 0,
      output_tokens: 0,
      cache_read_tokens: 0,
      cache_creation_tokens: 0,
    };
    this.#apply(this.#current, usage);
    this.#close();
  }

  totals(): WireUsage {
    this.#close();
    return { ...this.#done };
  }
}

/** What a tap does with a body's chunks, whatever stream carries them. */
interface Tap {
  /** Looks at a chunk that was already passed on; never throws. */
  look(chunk: Uint8Array): void;
  /** The body ended (or was cancelled, or failed): reports once. */
  end(cancelled: boolean): void;
}

/**
 * The tap as a TransformStream. Chunks are enqueued before they are inspected, and inspection
 * never throws into the stream.
 */
export function usageTap(options: TapOptions): TransformStream<Uint8Array, Uint8Array> {
  const tap = createTap(options);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      tap.look(chunk);
    },
    flush() {
      tap.end(false);
    },
    cancel() {
      tap.end(true);
    },
  });
}

/**
 * The tap around a body, as the body the client reads: each chunk is read from `body` only when
 * the client asks for one (a paused client pauses the upstream read), passed on, then looked at.
 * One stream hop per chunk instead of a TransformStream's pipe (writable, transform, readable):
 * with one chunk per SSE event that machinery cost more than the inspection.
 */
export function tapBody(
  body: ReadableStream<Uint8Array>,
  options: TapOptions,
): ReadableStream<Uint8Array> {
  const tap = createTap(options);
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        tap.end(true);
        throw err;
      }
      if (result.done) {
        tap.end(false);
        controller.close();
        return;
      }
      controller.enqueue(result.value);
      tap.look(result.value);
    },
    cancel(reason) {
      tap.end(true);
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function createTap(options: TapOptions): Tap {
  const maxLine = options.maxLineBytes ?? 1024 * 1024;
  const maxJson = options.maxJsonBytes ?? 1024 * 1024;
  const counter = new UsageCounter();
  let bytes = 0;
  const head: Uint8Array[] = [];
  let headLength = 0;
  // SSE: the partial line carried over between chunks, and whether it is being skipped.
  let partial: Uint8Array[] = [];
  let partialLength = 0;
  let skipping = false;
  let eventName = "";
  // JSON: the whole body, while it is small enough.
  let json: Uint8Array[] | null = options.sse ? null : [];
  let ended = false;

  const end = (cancelled: boolean) => {
    if (ended) return;
    ended = true;
    if (!cancelled && json) {
      try {
        const all = new Uint8Array(bytes);
        let at = 0;
        for (const part of json) {
          all.set(part, at);
          at += part.length;
        }
        const body = record(JSON.parse(decoder.decode(all)));
        if (body) counter.message(body);
      } catch {
        // not JSON: nothing to count
      }
    }
    let headText: string | null = null;
    if (options.headBytes > 0) {
      const all = new Uint8Array(headLength);
      let at = 0;
      for (const part of head) {
        all.set(part, at);
        at += part.length;
      }
      headText = decoder.decode(all);
    }
    try {
      options.onEnd({
        ...counter.totals(),
        bytes,
        head: headText,
        cancelled,
        model: counter.model,
      });
    } catch {
      // a failing observer must not break the stream
    }
  };

  /**
   * An `event:` line names the event (compared as bytes: one is sent per delta); a `data:` line of
   * an event that carries usage is decoded and parsed.
   */
  const line = (bytesOfLine: Uint8Array) => {
    if (bytesOfLine[0] === EVENT[0]) {
      eventName = eventNameOf(bytesOfLine);
      return;
    }
    let text = decoder.decode(bytesOfLine);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    try {
      const data = record(JSON.parse(text.slice(5)));
      if (data) counter.event(data);
    } catch {
      // a malformed event is the client's problem, not ours
    }
  };

  /**
   * Whether a line starting with `start` must be read: `event:` lines and the `data:` of
   * `message_start` / `message_delta` (or of an unnamed event). Every other line — the text and
   * tool deltas that are nearly all of a stream — is skipped on its first bytes, never decoded or
   * copied. null: too few bytes to tell yet.
   */
  const wanted = (start: Uint8Array): boolean | null => {
    const prefix = start[0] === EVENT[0] ? EVENT : start[0] === DATA[0] ? DATA : null;
    if (!prefix) {
      return start.length === 0 || (start.length === 1 && start[0] === CR) ? null : false;
    }
    const n = Math.min(start.length, prefix.length);
    for (let i = 1; i < n; i++) if (start[i] !== prefix[i]) return false;
    if (n < prefix.length) return null;
    return prefix === EVENT || eventName === "" || eventName === "message_start" ||
      eventName === "message_delta";
  };

  /** The first bytes of the line being carried over, followed by `rest`. */
  const lineStart = (rest: Uint8Array): Uint8Array => {
    if (partialLength === 0) return rest;
    const out = new Uint8Array(partialLength + Math.min(rest.length, EVENT.length));
    let at = 0;
    for (const part of partial) {
      out.set(part, at);
      at += part.length;
    }
    out.set(rest.subarray(0, EVENT.length), at);
    return out;
  };

  const sse = (chunk: Uint8Array) => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        const rest = chunk.subarray(start);
        if (rest.length === 0) return;
        if (!skipping && partialLength < EVENT.length && wanted(lineStart(rest)) === false) {
          skipping = true;
        }
        if (skipping || partialLength + rest.length > maxLine) {
          skipping = true;
          partial = [];
          partialLength = 0;
        } else {
          partial.push(rest.slice());
          partialLength += rest.length;
        }
        return;
      }
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (skipping) {
        skipping = false;
        continue;
      }
      let whole = piece;
      if (partialLength > 0) {
        if (partialLength + piece.length > maxLine) {
          partial = [];
          partialLength = 0;
          continue;
        }
        whole = new Uint8Array(partialLength + piece.length);
        let at = 0;
        for (const part of partial) {
          whole.set(part, at);
          at += part.length;
        }
        whole.set(piece, at);
        partial = [];
        partialLength = 0;
      }
      // An empty line ends the event.
      if (whole.length === 0 || (whole.length === 1 && whole[0] === CR)) eventName = "";
      else if (wanted(whole) === true) line(whole);
    }
  };

  return {
    look(chunk) {
      try {
        bytes += chunk.length;
        if (headLength < options.headBytes) {
          const take = chunk.subarray(0, options.headBytes - headLength).slice();
          head.push(take);
          headLength += take.length;
        }
        if (options.sse) sse(chunk);
        else if (json) {
          if (bytes > maxJson) json = null;
          else json.push(chunk.slice());
        }
      } catch {
        // inspection never breaks the stream
      }
    },
    end,
  };
}
