import assert from "node:assert/strict";
import { StderrTail } from "./stderr_tail.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** Byte at global offset i of the generated streams: 251 is prime, so it never aligns with chunks. */
const patternByte = (i: number) => i % 251;

Deno.test("StderrTail keeps small input whole and unflagged", async () => {
  const tail = new StderrTail(1024);
  await tail.drain(ReadableStream.from([encode("warn: "), encode("something\n")]));
  assert.equal(tail.text(), "warn: something\n");
  assert.equal(tail.totalBytes, 16);
  assert.equal(tail.truncated, false);
  assert.deepEqual(new StderrTail(16).bytes(), new Uint8Array(0));
  assert.equal(new StderrTail(16).truncated, false);
});

Deno.test("StderrTail keeps exactly the last limit bytes of 100 MB drained lazily", async () => {
  const limit = 1024 * 1024;
  const total = 100_000_000;
  // Chunk sizes vary so the ring wraps at many different offsets.
  const sizes = [65_536, 4_093, 1, 65_536, 131_072, 17];
  let produced = 0;
  let pulls = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (produced >= total) return controller.close();
      const size = Math.min(sizes[pulls++ % sizes.length]!, total - produced);
      const chunk = new Uint8Array(size);
      for (let i = 0; i < size; i++) chunk[i] = patternByte(produced + i);
      produced += size;
      controller.enqueue(chunk);
    },
  });
  const tail = new StderrTail(limit);
  const started = performance.now();
  await tail.drain(source);
  const elapsed = performance.now() - started;
  assert.equal(tail.totalBytes, total);
  assert.equal(tail.truncated, true);
  const kept = tail.bytes();
  assert.equal(kept.length, limit);
  for (let i = 0; i < limit; i++) {
    if (kept[i] !== patternByte(total - limit + i)) assert.fail(`byte ${i} of the tail differs`);
  }
  assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
});

Deno.test("StderrTail matches a naive tail for random chunkings", () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 300; round++) {
    const limit = Math.floor(rand() * 100);
    const tail = new StderrTail(limit);
    const all: number[] = [];
    const pushes = Math.floor(rand() * 20);
    for (let p = 0; p < pushes; p++) {
      const chunk = Uint8Array.from(
        { length: Math.floor(rand() * 150) },
        (_, i) => (all.length + i) % 256,
      );
      all.push(...chunk);
      tail.push(chunk);
      chunk.fill(0); // chunks are copied, not retained
      const expected = all.slice(Math.max(0, all.length - limit));
      assert.deepEqual([...tail.bytes()], expected, `round ${round}, push ${p}, limit ${limit}`);
      assert.equal(tail.totalBytes, all.length);
      assert.equal(tail.truncated, all.length > limit);
    }
  }
});

Deno.test("StderrTail text skips a character cut at the front and decodes lossily", () => {
  const tail = new StderrTail(6);
  tail.push(encode("ab\u{1F600}cd")); // 61 62 F0 9F 98 80 63 64: the last 6 start at F0
  assert.deepEqual([...tail.bytes()], [0xf0, 0x9f, 0x98, 0x80, 0x63, 0x64]);
  assert.equal(tail.text(), "\u{1F600}cd");
  tail.push(encode("e"));
  assert.equal(tail.text(), "cde"); // 9F 98 80 skipped
  const invalid = new StderrTail(16);
  invalid.push(Uint8Array.from([0x61, 0xff, 0x62]));
  assert.equal(invalid.text(), "a\ufffdb");
});

Deno.test("StderrTail with limit 0 keeps nothing but counts", () => {
  const tail = new StderrTail(0);
  tail.push(encode("abc"));
  assert.equal(tail.bytes().length, 0);
  assert.equal(tail.totalBytes, 3);
  assert.equal(tail.truncated, true);
  assert.throws(() => new StderrTail(-1), RangeError);
});

Deno.test("StderrTail drain rejects when the stream errors and keeps what it read", async () => {
  const tail = new StderrTail(64);
  let pulls = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulls++ === 0) controller.enqueue(encode("partial"));
      else controller.error(new Error("pipe broke"));
    },
  });
  await assert.rejects(tail.drain(source), /pipe broke/);
  assert.equal(tail.text(), "partial");
});
