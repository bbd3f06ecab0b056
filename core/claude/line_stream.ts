/**
 * Bounded byte-level line splitter for claude's stream-json stdout.
 *
 * It works on raw bytes and never decodes: a line may be invalid UTF-8 and is stored as received,
 * and splitting on the 0x0A byte is safe for UTF-8 because 0x0A never occurs inside a multi-byte
 * sequence. A line longer than the cap errors the stream at once instead of buffering without
 * bound (reliability_targets.md finding 12, T14).
 *
 * @module
 */

/** One line without its terminator (`\n` or `\r\n`). */
export interface Line {
  /** The line's bytes; never mutated by the stream after it is emitted. */
  bytes: Uint8Array;
  /** True for a final line that ended at end of input without a `\n`. */
  eofNoNewline: boolean;
}

/** A line grew past the configured cap; the stream is errored with this. */
export class LineTooLongError extends Error {
  override name = "LineTooLongError";
  /** Stable machine code (matches `AgentErrorCode` `line_too_long`). */
  readonly code = "line_too_long";
  /**
   * @param limit The cap in bytes (terminator excluded).
   * @param seen Bytes of the offending line seen when the stream gave up (at least `limit + 1`).
   */
  constructor(readonly limit: number, readonly seen: number) {
    super(`Cannot read line: longer than ${limit} bytes`);
  }
}

/** Options for {@linkcode ByteLineStream}. */
export interface ByteLineStreamOptions {
  /** Longest accepted line in bytes, terminator excluded. Default 64 MiB. */
  maxLineBytes?: number;
}

/** Default cap: 64 MiB, the same as `HERO_ORCHESTRATOR_MAX_LINE_BYTES`' default. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into {@linkcode Line}s, shaped like `TextLineStream` but on bytes.
 *
 * - Splits on `\n`; a `\r` right before `\n` is dropped, a lone `\r` elsewhere is kept.
 * - Empty lines are emitted (zero-length `bytes`); the caller decides what to do with them.
 * - A final line without `\n` is emitted at the end with `eofNoNewline: true` if it is not empty.
 * - As soon as the current line is known to be longer than `maxLineBytes`, the stream errors with
 *   {@linkcode LineTooLongError}, after every earlier line has been read.
 *
 * Written chunks are taken over (the web streams convention): a line that lies inside one chunk is
 * emitted as a `subarray` of it, so a producer must not reuse a chunk's buffer after writing it.
 * A line spanning chunks is joined once, at its newline, into a fresh buffer.
 *
 * @example
 * ```ts
 * const stream = ReadableStream.from([new TextEncoder().encode('{"a":1}\r\n{"b"'), new TextEncoder().encode(":2}")])
 *   .pipeThrough(new ByteLineStream({ maxLineBytes: 1024 }));
 * for await (const line of stream) console.log(new TextDecoder().decode(line.bytes), line.eofNoNewline);
 * // {"a":1} false
 * // {"b":2} true
 * ```
 */
export class ByteLineStream extends TransformStream<Uint8Array, Line> {
  constructor(options: ByteLineStreamOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(
        `Cannot create ByteLineStream: maxLineBytes must be an integer >= 0, got ${max}`,
      );
    }
    // Pieces of the current unterminated line. Kept as a list and joined once at the newline:
    // concatenating per chunk would be O(n²) for a 32 MiB line arriving in 64 KiB chunks.
    let pieces: Uint8Array[] = [];
    let pending = 0;

    function joined(tail: Uint8Array): Uint8Array {
      const out = new Uint8Array(pending + tail.length);
      let offset = 0;
      for (const piece of pieces) {
        out.set(piece, offset);
        offset += piece.length;
      }
      out.set(tail, offset);
      pieces = [];
      pending = 0;
      return out;
    }

    function tooLong(
      controller: TransformStreamDefaultController<Line>,
      seen: number,
    ): Promise<never> {
      // Let go of the partial line now: the caller may keep the dead stream around.
      pieces = [];
      pending = 0;
      return fail(controller, new LineTooLongError(max, seen));
    }

    super({
      transform(chunk, controller) {
        const size = chunk.length;
        let start = 0;
        let nl = chunk.indexOf(LF, start);
        while (nl !== -1) {
          let line: Uint8Array;
          if (pending === 0) {
            const end = nl > start && chunk[nl - 1] === CR ? nl - 1 : nl;
            if (end - start > max) return tooLong(controller, end - start);
            line = chunk.subarray(start, end);
          } else {
            const last = nl > start ? chunk[nl - 1] : pieces[pieces.length - 1]!.at(-1);
            const length = pending + (nl - start) - (last === CR ? 1 : 0);
            if (length > max) return tooLong(controller, length);
            line = joined(chunk.subarray(start, nl)).subarray(0, length);
          }
          controller.enqueue({ bytes: line, eofNoNewline: false });
          start = nl + 1;
          nl = chunk.indexOf(LF, start);
        }
        if (start === size) return;
        const rest = chunk.subarray(start);
        const seen = pending + rest.length;
        // One byte of slack when the last byte is `\r`: it may be the first half of a `\r\n`
        // terminator, and a line of exactly `max` bytes followed by `\r\n` is within bounds.
        if (seen > max + 1 || (seen === max + 1 && rest[rest.length - 1] !== CR)) {
          return tooLong(controller, seen);
        }
        pieces.push(rest);
        pending = seen;
      },
      flush(controller) {
        if (pending === 0) return;
        // At end of input a trailing `\r` is content, not half a terminator.
        if (pending > max) return tooLong(controller, pending);
        controller.enqueue({ bytes: joined(new Uint8Array(0)), eofNoNewline: true });
      },
    });
  }
}

/**
 * Errors the stream once every line already enqueued has been read.
 *
 * Erroring a readable stream discards the chunks still queued in it, so failing right away would
 * silently drop the good lines that preceded the long one in the same chunk (T15, T16: a line is
 * never dropped). Transform calls are gated by back-pressure, so only lines enqueued by the current
 * call (or before `flush`) can still be queued; this rare path polls until the reader took them.
 */
async function fail(
  controller: TransformStreamDefaultController<Line>,
  error: LineTooLongError,
): Promise<never> {
  // desiredSize: -queued with the default high-water mark 0; 0 once closed; null once errored.
  while ((controller.desiredSize ?? 0) < 0) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw error;
}
