/**
 * A pass-through tap on an upstream response body: every chunk is forwarded first, unchanged and
 * at once; only then are the bytes looked at, to count token usage (`message_start` /
 * `message_delta` SSE events, or a JSON message's `usage`) and to keep the first bytes of an error
 * body for the log. Nothing is buffered beyond one bounded SSE line.
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
      const usage = record(record(data.message)?.usage);
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

/**
 * The tap as a TransformStream. Chunks are enqueued before they are inspected, and inspection
 * never throws into the stream.
 */
export function usageTap(options: TapOptions): TransformStream<Uint8Array, Uint8Array> {
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
      options.onEnd({ ...counter.totals(), bytes, head: headText, cancelled });
    } catch {
      // a failing observer must not break the stream
    }
  };

  const line = (bytesOfLine: Uint8Array) => {
    let text = decoder.decode(bytesOfLine);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (text === "") {
      eventName = "";
      return;
    }
    if (text.startsWith("event:")) {
      eventName = text.slice(6).trim();
      return;
    }
    if (!text.startsWith("data:")) return;
    if (eventName !== "" && eventName !== "message_start" && eventName !== "message_delta") return;
    try {
      const data = record(JSON.parse(text.slice(5)));
      if (data) counter.event(data);
    } catch {
      // a malformed event is the client's problem, not ours
    }
  };

  const sse = (chunk: Uint8Array) => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        const rest = chunk.subarray(start);
        if (skipping || partialLength + rest.length > maxLine) {
          skipping = true;
          partial = [];
          partialLength = 0;
        } else if (rest.length > 0) {
          partial.push(rest.slice());
          partialLength += rest.length;
        }
        return;
      }
      const piece = chunk.subarray(start, nl);
      if (skipping) {
        skipping = false;
      } else if (partialLength === 0) {
        line(piece);
      } else if (partialLength + piece.length <= maxLine) {
        const whole = new Uint8Array(partialLength + piece.length);
        let at = 0;
        for (const part of partial) {
          whole.set(part, at);
          at += part.length;
        }
        whole.set(piece, at);
        line(whole);
      }
      partial = [];
      partialLength = 0;
      start = nl + 1;
    }
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
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
    flush() {
      end(false);
    },
    cancel() {
      end(true);
    },
  });
}
