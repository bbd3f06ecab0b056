import assert from "node:assert/strict";
import {
  ByteLineStream,
  DEFAULT_MAX_LINE_BYTES,
  type Line,
  LineTooLongError,
} from "./line_stream.ts";
import { soakFigure } from "../testing/soak.ts";

const encoder = new TextEncoder();

function bytes(...parts: (string | number[])[]): Uint8Array {
  const arrays = parts.map((p) => typeof p === "string" ? encoder.encode(p) : Uint8Array.from(p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

/** Straightforward whole-input splitter the stream must agree with, whatever the chunking. */
function referenceLines(input: Uint8Array): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== 0x0a) continue;
    const end = i > start && input[i - 1] === 0x0d ? i - 1 : i;
    out.push({ bytes: input.slice(start, end), eofNoNewline: false });
    start = i + 1;
  }
  if (start < input.length) out.push({ bytes: input.slice(start), eofNoNewline: true });
  return out;
}

/** Cuts `input` at `offsets` into freshly allocated chunks (as a pipe reader would hand out). */
function cut(input: Uint8Array, offsets: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const offset of [...offsets, input.length]) {
    chunks.push(input.slice(prev, offset));
    prev = offset;
  }
  return chunks;
}

function split(chunks: Uint8Array[], maxLineBytes?: number): Promise<Line[]> {
  const options = maxLineBytes === undefined ? {} : { maxLineBytes };
  return Array.fromAsync(ReadableStream.from(chunks).pipeThrough(new ByteLineStream(options)));
}

function assertLines(actual: Line[], expected: Line[], context: string): void {
  assert.equal(actual.length, expected.length, `line count (${context})`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.equal(a.eofNoNewline, e.eofNoNewline, `eofNoNewline of line ${i} (${context})`);
    assert.ok(
      a.bytes.length === e.bytes.length && a.bytes.every((b, j) => b === e.bytes[j]),
      `bytes of line ${i} (${context})`,
    );
  }
}

// 😀 = F0 9F 98 80: splits inside it must not matter.
const SAMPLE = bytes(
  '{"type":"system","subtype":"init","session_id":"s"}\n',
  '{"type":"assistant","text":"hi \u{1F600} there"}\r\n',
  "\n",
  "lone\rcr\n",
  "\r\n",
  "invalid ",
  [0xff, 0xfe, 0xc3],
  " utf8 and NUL ",
  [0x00],
  "\n",
  '{"type":"result","result":"done \u{1F600}"}',
);

const SAMPLE_LINES: Line[] = [
  { bytes: bytes('{"type":"system","subtype":"init","session_id":"s"}'), eofNoNewline: false },
  { bytes: bytes('{"type":"assistant","text":"hi \u{1F600} there"}'), eofNoNewline: false },
  { bytes: bytes(""), eofNoNewline: false },
  { bytes: bytes("lone\rcr"), eofNoNewline: false },
  { bytes: bytes(""), eofNoNewline: false },
  { bytes: bytes("invalid ", [0xff, 0xfe, 0xc3], " utf8 and NUL ", [0x00]), eofNoNewline: false },
  { bytes: bytes('{"type":"result","result":"done \u{1F600}"}'), eofNoNewline: true },
];

Deno.test("ByteLineStream splits lines, strips CRLF, keeps lone CR, empty lines and the final partial line", async () => {
  assertLines(referenceLines(SAMPLE), SAMPLE_LINES, "reference");
  assertLines(await split([SAMPLE]), SAMPLE_LINES, "one chunk");
});

Deno.test("ByteLineStream gives identical lines for a split at every byte offset", async () => {
  for (let i = 0; i <= SAMPLE.length; i++) {
    assertLines(await split(cut(SAMPLE, [i])), SAMPLE_LINES, `split at ${i}`);
  }
});

Deno.test("ByteLineStream gives identical lines for every pair of split offsets", async () => {
  for (let i = 0; i <= SAMPLE.length; i++) {
    for (let j = i; j <= SAMPLE.length; j += 3) {
      assertLines(await split(cut(SAMPLE, [i, j])), SAMPLE_LINES, `split at ${i}, ${j}`);
    }
  }
});

Deno.test("ByteLineStream gives identical lines for one-byte chunks", async () => {
  const offsets = Array.from({ length: SAMPLE.length - 1 }, (_, i) => i + 1);
  assertLines(await split(cut(SAMPLE, offsets)), SAMPLE_LINES, "one byte per chunk");
});

/** Small deterministic PRNG so a failing seed can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Byte alphabet weighted towards the interesting cases: terminators, CR, emoji bytes, NUL, 0xFF.
const ALPHABET = [
  0x0a,
  0x0a,
  0x0d,
  0x0d,
  0x61,
  0x62,
  0x7b,
  0x22,
  0xf0,
  0x9f,
  0x98,
  0x80,
  0x00,
  0xff,
];

function randomInput(rand: () => number): Uint8Array {
  if (rand() < 0.3) return SAMPLE;
  const out = new Uint8Array(Math.floor(rand() * 200));
  for (let i = 0; i < out.length; i++) out[i] = ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
  return out;
}

function randomOffsets(rand: () => number, length: number): number[] {
  const count = Math.floor(rand() * 12);
  return Array.from({ length: count }, () => Math.floor(rand() * (length + 1))).sort((a, b) =>
    a - b
  );
}

/** Reliability target T15: 10⁵ fuzzed chunkings in `deno task soak`. */
const FUZZ_ROUNDS = soakFigure(20_000, 100_000);

Deno.test(`ByteLineStream matches the reference splitter over ${FUZZ_ROUNDS} fuzzed inputs and chunkings`, async () => {
  const seed = 0x5eed;
  const rand = mulberry32(seed);
  for (let i = 0; i < FUZZ_ROUNDS; i++) {
    const input = randomInput(rand);
    const offsets = randomOffsets(rand, input.length);
    assertLines(
      await split(cut(input, offsets)),
      referenceLines(input),
      `seed ${seed}, iteration ${i}, offsets ${offsets}`,
    );
  }
});

Deno.test("ByteLineStream round-trips a 32 MiB line byte for byte", async () => {
  const size = 32 * 1024 * 1024;
  const line = new Uint8Array(size);
  const head = encoder.encode('{"type":"assistant","text":"');
  line.set(head);
  for (let i = head.length; i < size - 2; i++) line[i] = 0x61 + (i % 26);
  line.set(encoder.encode('"}'), size - 2);
  const input = new Uint8Array(size + 1);
  input.set(line);
  input[size] = 0x0a;
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < input.length; offset += 65_536) {
    chunks.push(input.subarray(offset, offset + 65_536));
  }
  const lines = await split(chunks);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.eofNoNewline, false);
  assert.equal(lines[0]!.bytes.length, size);
  assert.ok(lines[0]!.bytes.every((b, i) => b === line[i]), "32 MiB line differs");
});

Deno.test("ByteLineStream accepts a line of exactly maxLineBytes, with LF, CRLF or at EOF", async () => {
  const max = 1024;
  const exact = new Uint8Array(max).fill(0x78);
  for (const terminator of ["\n", "\r\n", ""]) {
    const input = bytes("a\n", [...exact], terminator, terminator === "" ? "" : "b");
    for (const chunkSize of [1, 7, 1000, 1024, 1025, 4096]) {
      const offsets = [];
      for (let o = chunkSize; o < input.length; o += chunkSize) offsets.push(o);
      const lines = await split(cut(input, offsets), max);
      assertLines(
        lines,
        referenceLines(input),
        `terminator ${JSON.stringify(terminator)}, chunk ${chunkSize}`,
      );
      assert.equal(lines[1]!.bytes.length, max);
    }
  }
});

Deno.test("ByteLineStream errors on a line of maxLineBytes + 1, after delivering the lines before it", async () => {
  const max = 1024;
  const over = new Uint8Array(max + 1).fill(0x78);
  const cases = [
    { name: "LF", input: bytes("a\nb\n", [...over], "\nnext\n") },
    { name: "CRLF", input: bytes("a\nb\n", [...over], "\r\nnext\n") },
    { name: "EOF", input: bytes("a\nb\n", [...over]) },
    // A trailing `\r` at EOF is content, so max bytes + `\r` is one byte too many.
    { name: "EOF after CR", input: bytes("a\nb\n", [...over.subarray(1)], "\r") },
  ];
  for (const { name, input } of cases) {
    for (const chunkSize of [1, 7, 1000, 1024, 1025, 4096]) {
      const offsets = [];
      for (let o = chunkSize; o < input.length; o += chunkSize) offsets.push(o);
      const seen: string[] = [];
      const stream = ReadableStream.from(cut(input, offsets)).pipeThrough(
        new ByteLineStream({ maxLineBytes: max }),
      );
      await assert.rejects(
        async () => {
          for await (const line of stream) {
            seen.push(new TextDecoder().decode(line.bytes));
            // A slow consumer: the error must wait for it, not drop what is queued.
            await new Promise((resolve) => setTimeout(resolve, 0));
          }
        },
        (err: unknown) => {
          assert.ok(err instanceof LineTooLongError);
          assert.equal(err.name, "LineTooLongError");
          assert.equal(err.code, "line_too_long");
          assert.equal(err.limit, max);
          assert.ok(err.seen > max, `seen ${err.seen}`);
          assert.equal(err.message, `Cannot read line: longer than ${max} bytes`);
          return true;
        },
        `${name}, chunk ${chunkSize}`,
      );
      assert.deepEqual(seen, ["a", "b"], `${name}, chunk ${chunkSize}`);
    }
  }
});

Deno.test("ByteLineStream delivers lines queued by the last write before erroring at close", async () => {
  const max = 16;
  const stream = new ByteLineStream({ maxLineBytes: max });
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  // One read lets the write through (back-pressure); it takes "a", while "b" stays queued. max
  // bytes + `\r` may still become a CRLF-terminated line, so the write succeeds; at the end of
  // input the `\r` is content and the line is one byte too long, found only by flush.
  const first = reader.read();
  await writer.write(bytes("a\nb\n", "x".repeat(max), "\r"));
  const closed = writer.close().catch((err) => err);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual((await first).value?.bytes, bytes("a"));
  assert.deepEqual((await reader.read()).value?.bytes, bytes("b"));
  await assert.rejects(reader.read(), LineTooLongError);
  assert.ok((await closed) instanceof LineTooLongError);
});

Deno.test("ByteLineStream stops a 200 MiB line without newline after about maxLineBytes", async () => {
  const total = 200 * 1024 * 1024;
  const chunkSize = 65_536;
  let pulled = 0;
  let cancelled = false;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += chunkSize;
      controller.enqueue(new Uint8Array(chunkSize).fill(0x78));
    },
    cancel() {
      cancelled = true;
    },
  });
  const started = performance.now();
  await assert.rejects(
    Array.fromAsync(source.pipeThrough(new ByteLineStream())),
    (err: unknown) => err instanceof LineTooLongError && err.limit === DEFAULT_MAX_LINE_BYTES,
  );
  const elapsed = performance.now() - started;
  assert.ok(
    pulled <= DEFAULT_MAX_LINE_BYTES + 4 * chunkSize,
    `pulled ${pulled} bytes for a cap of ${DEFAULT_MAX_LINE_BYTES}`,
  );
  assert.ok(cancelled, "source was not cancelled");
  assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
});

Deno.test("ByteLineStream flags only a non-empty final line without newline", async () => {
  assertLines(await split([bytes("a\n")]), [{ bytes: bytes("a"), eofNoNewline: false }], "a\\n");
  assertLines(await split([bytes("a")]), [{ bytes: bytes("a"), eofNoNewline: true }], "a");
  assertLines(await split([bytes("a\r")]), [{ bytes: bytes("a\r"), eofNoNewline: true }], "a\\r");
  assertLines(await split([]), [], "no input");
  assertLines(await split([new Uint8Array(0), new Uint8Array(0)]), [], "empty chunks");
});

Deno.test("ByteLineStream emits empty lines", async () => {
  const lines = await split([bytes("\n\r\n\n")]);
  assert.deepEqual(lines.map((l) => l.bytes.length), [0, 0, 0]);
  assert.ok(lines.every((l) => !l.eofNoNewline));
});

Deno.test("ByteLineStream never mutates lines it has emitted", async () => {
  const stream = new ByteLineStream();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const got: Uint8Array[] = [];
  const reading = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) got.push(r.value.bytes);
  })();
  await writer.write(bytes("first\nsec"));
  await writer.write(bytes("ond\nthi"));
  await writer.write(bytes("rd\n"));
  await writer.close();
  await reading;
  assert.deepEqual(got.map((b) => new TextDecoder().decode(b)), ["first", "second", "third"]);
});

Deno.test("ByteLineStream rejects an invalid maxLineBytes", () => {
  assert.throws(() => new ByteLineStream({ maxLineBytes: -1 }), RangeError);
  assert.throws(() => new ByteLineStream({ maxLineBytes: 1.5 }), RangeError);
  assert.throws(() => new ByteLineStream({ maxLineBytes: Number.NaN }), RangeError);
});
