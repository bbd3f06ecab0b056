/**
 * Keeps the last N bytes of a child's stderr.
 *
 * stderr must be read to the end, or a child writing more than a pipe's 64 KiB blocks forever
 * (T17); but only its end is worth keeping, so memory stays bounded by the limit.
 *
 * @module
 */

/**
 * A ring buffer holding the last `limitBytes` bytes pushed into it.
 *
 * Every pushed byte is copied at most once, so pushing n bytes costs O(n) whatever the chunking,
 * and chunks are never retained (a caller may reuse its buffer). The buffer grows by doubling up
 * to the limit, so an agent with little stderr costs little memory.
 *
 * @example
 * ```ts
 * const tail = new StderrTail(8);
 * tail.push(new TextEncoder().encode("hello, world"));
 * tail.text(); // "o, world"
 * tail.truncated; // true
 * ```
 */
export class StderrTail {
  readonly #limit: number;
  #buf = new Uint8Array(0);
  /** Index of the oldest kept byte. */
  #head = 0;
  /** Number of kept bytes. */
  #length = 0;
  #total = 0;

  /** @param limitBytes How many bytes at the end to keep. */
  constructor(limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(
        `Cannot create StderrTail: limitBytes must be an integer >= 0, got ${limitBytes}`,
      );
    }
    this.#limit = limitBytes;
  }

  /** Bytes pushed so far, kept or not. */
  get totalBytes(): number {
    return this.#total;
  }

  /** True once bytes were dropped from the front. */
  get truncated(): boolean {
    return this.#total > this.#length;
  }

  /** Appends a chunk, dropping the oldest bytes beyond the limit. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    this.#total += n;
    if (n === 0) return;
    const limit = this.#limit;
    if (n >= limit) {
      // The chunk alone fills the tail: only its end survives, nothing older needs moving.
      if (this.#buf.length !== limit) this.#buf = new Uint8Array(limit);
      this.#buf.set(chunk.subarray(n - limit));
      this.#head = 0;
      this.#length = limit;
      return;
    }
    if (this.#length + n > this.#buf.length && this.#buf.length < limit) {
      this.#grow(Math.min(limit, Math.max(this.#buf.length * 2, this.#length + n, 4096)));
    }
    const cap = this.#buf.length;
    const tail = (this.#head + this.#length) % cap;
    const first = Math.min(n, cap - tail);
    this.#buf.set(chunk.subarray(0, first), tail);
    if (first < n) this.#buf.set(chunk.subarray(first), 0);
    const length = this.#length + n;
    if (length > cap) {
      this.#head = (this.#head + length - cap) % cap;
      this.#length = cap;
    } else {
      this.#length = length;
    }
  }

  /** A copy of the kept bytes, oldest first. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    const cap = this.#buf.length;
    const first = Math.min(this.#length, cap - this.#head);
    out.set(this.#buf.subarray(this.#head, this.#head + first));
    out.set(this.#buf.subarray(0, this.#length - first), first);
    return out;
  }

  /**
   * The kept bytes decoded as UTF-8; invalid sequences become U+FFFD. When the tail was cut, up
   * to 3 leading continuation bytes (the rest of a character whose start was dropped) are
   * skipped so the text does not begin with a replacement character.
   */
  text(): string {
    let bytes = this.bytes();
    if (this.truncated) {
      let skip = 0;
      while (skip < 3 && skip < bytes.length && (bytes[skip]! & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
    }
    return new TextDecoder().decode(bytes);
  }

  /**
   * Reads `readable` to its end, keeping only the last `limitBytes` bytes. Rejects if the stream
   * errors (what was read so far stays kept).
   */
  async drain(readable: ReadableStream<Uint8Array>): Promise<void> {
    const reader = readable.getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) this.push(r.value);
    } finally {
      reader.releaseLock();
    }
  }

  /** Linearises the kept bytes into a buffer of `capacity` (≥ the kept length). */
  #grow(capacity: number): void {
    if (capacity === this.#buf.length && this.#head === 0) return;
    const kept = this.bytes();
    const buf = capacity === this.#buf.length ? this.#buf : new Uint8Array(capacity);
    buf.set(kept);
    this.#buf = buf;
    this.#head = 0;
  }
}
